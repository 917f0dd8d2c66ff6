"""No HTTP views except a probe the benchmark waits for."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def ready(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("healthz", ready)]
