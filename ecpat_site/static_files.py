"""WhiteNoise's static files, served the asynchronous way under ASGI.

WhiteNoise's Django middleware answers with a ``FileResponse`` over a
synchronous file, which Django's ASGI handler can only send by reading it
whole in a thread, with the warning "StreamingHttpResponse must consume
synchronous iterators in order to serve them asynchronously" on every static
file. This subclass keeps WhiteNoise's file table, headers, compression and
caching rules and, for a request that came through ASGI, gives the same
response an asynchronous body, whether the middleware chain runs synchronously
(as it does here, see ``ecpat_site.handler``) or not. Under WSGI it is WhiteNoise as is.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.responders import StaticFile

# Files up to this size are read in the event loop: static files are small and
# sit in the page cache, so a read takes microseconds. Bigger ones are read in a thread.
INLINE_READ_BYTES = 256 * 1024
CHUNK_BYTES = 64 * 1024


async def _file_body(file: IO[bytes], size: int) -> AsyncIterator[bytes]:
    try:
        while True:
            if size <= INLINE_READ_BYTES:
                chunk = file.read(CHUNK_BYTES)
            else:
                chunk = await asyncio.to_thread(file.read, CHUNK_BYTES)
            if not chunk:
                return
            yield chunk
    finally:
        file.close()


class AsyncWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    """``whitenoise.middleware.WhiteNoiseMiddleware`` that is also async-capable."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any], settings: Any = None) -> None:
        if settings is None:
            from django.conf import settings
        super().__init__(get_response, settings)
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self._is_async:
            return self.__acall__(request)
        if not isinstance(request, ASGIRequest):
            response: HttpResponseBase = super().__call__(request)
            return response
        static_file = self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)
        if static_file is None:
            passed_on: HttpResponseBase = self.get_response(request)
            return passed_on
        return self.serve_async(static_file, request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:
            # Development and tests: looks the file up on disk each time.
            static_file = await sync_to_async(self.find_file, thread_sensitive=False)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is None:
            response: HttpResponseBase = await self.get_response(request)
            return response
        return self.serve_async(static_file, request)

    @staticmethod
    def serve_async(static_file: StaticFile, request: HttpRequest) -> StreamingHttpResponse:
        found = static_file.get_response(request.method, request.META)
        size = int(dict(found.headers).get("Content-Length", 0))
        body = _file_body(found.file, size) if found.file is not None else _no_body()
        response = StreamingHttpResponse(body, status=int(found.status))
        del response["Content-Type"]
        for key, value in found.headers:
            response[key] = value
        return response


async def _no_body() -> AsyncIterator[bytes]:
    # HEAD and 304 answers: an asynchronous body with nothing in it.
    nothing: tuple[bytes, ...] = ()
    for chunk in nothing:
        yield chunk
