"""Django's message middleware, with the message storage made only when something uses it."""

from functools import partial

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
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
