from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
def quick_exit(request: HttpRequest) -> HttpResponse:
    """Forgets the visit and sends the browser to a neutral site.

    The page's script has already hidden the content and called
    ``location.replace`` so this page leaves no history entry; without
    script the button is a plain link to here.
    """
    request.session.flush()
    response = HttpResponseRedirect(settings.QUICK_EXIT_URL)
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@require_safe
def safety(request: HttpRequest) -> HttpResponse:
    """Explains honestly what quick exit does and what it cannot erase."""
    return render(request, "privacy/safety.html")
