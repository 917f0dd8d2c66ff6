import logging

from privacy.logging import RedactClientFilter, redact


def test_addresses_are_redacted_and_times_are_not():
    text = "peer 203.0.113.9:5123 and [2001:db8::1]:80 and ::1 and fe80:0:0:0:0:0:0:1 at 12:30:05"
    cleaned = redact(text)
    for address in ("203.0.113.9", "2001:db8::1", "::1", "fe80:0:0:0:0:0:0:1"):
        assert address not in cleaned
    assert "12:30:05" in cleaned


def test_filter_rewrites_message_and_traceback():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "from %s", ("198.51.100.4",), None)
    try:
        raise ValueError("connect to 198.51.100.4 failed")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactClientFilter().filter(record)
    assert "198.51.100.4" not in record.getMessage()
    assert record.exc_text
    assert "198.51.100.4" not in record.exc_text


def test_server_access_loggers_are_silenced():
    # Django's LOGGING is applied by django.setup(), after the server configured its own.
    assert logging.getLogger("uvicorn.access").getEffectiveLevel() >= logging.CRITICAL
    assert logging.getLogger("uvicorn.error").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("django.server").getEffectiveLevel() >= logging.CRITICAL
