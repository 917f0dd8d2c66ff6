"""A logging filter that keeps client addresses out of every log line."""

import logging
import re

_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
REDACTED = "[address]"


def _ipv6(match: re.Match[str]) -> str:
    text = match.group(0)
    # Clock times such as 12:30:05 share the shape; real addresses are
    # compressed ("::") or have all eight groups.
    if "::" in text or text.count(":") == 7:
        return REDACTED
    return text


def redact(text: str) -> str:
    """Replaces anything shaped like an IPv4 or IPv6 address."""
    return _IPV6_CANDIDATE.sub(_ipv6, _IPV4.sub(REDACTED, text))


class RedactClientFilter(logging.Filter):
    """Rewrites a record's message and traceback with addresses redacted.

    Access loggers are already silenced in settings; this is the net under
    them, for a library that logs a peer address in a message of its own.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
