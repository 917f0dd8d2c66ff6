"""Two of Django's middleware, doing only the work a request needs.

* ``LazyMessageMiddleware``: the message storage made only when something uses it.
* ``LocaleMiddleware``: where the address alone decides the language (this site's
  ``i18n_patterns`` without a Swedish prefix), the address is read once and
  nothing else.
"""

from functools import partial

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.middleware import locale
from django.utils import translation
from django.utils.functional import SimpleLazyObject, empty


class LazyMessageMiddleware(MessageMiddleware):
    """``MessageMiddleware`` that builds the storage on first use.

    Messages are shown and added only in the admin and the counsellors' pages,
    yet Django built a cookie storage (with its signer) and a session storage
    for every request, the public pages' included. Here ``request._messages``
    is a lazy object that builds the same storage the first time anything
    touches it (``messages.add_message``, the ``messages`` context processor,
    a template listing them). A storage nothing touched has read nothing and
    added nothing, so there is nothing to store, as in Django's ``update``.
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(partial(default_storage, request))  # type: ignore[attr-defined]  # as Django sets it

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's ``LocaleMiddleware``, reading only the address when the address decides.

    With ``i18n_patterns(..., prefix_default_language=False)`` Django's own code
    picks the address's language, or ``LANGUAGE_CODE`` for an address without a
    prefix, whatever the cookie or ``Accept-Language`` say; it still parsed both,
    and the address twice, on every request. Here such a request reads the address
    once; any other URLconf goes to Django's code. The response side is Django's.
    """

    def process_request(self, request: HttpRequest) -> None:
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        i18n_patterns_used, prefixed_default_language = is_language_prefix_patterns_used(urlconf)
        if not i18n_patterns_used or prefixed_default_language:
            super().process_request(request)
            return
        translation.activate(translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
