from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language

_OTHER = {"sv": ("en", "English"), "en": ("sv", "Svenska")}


def language_switch(request: HttpRequest) -> dict[str, dict[str, str]]:
    """The same page in the other language, for the switch in the header."""
    code, name = _OTHER.get(get_language() or "sv", _OTHER["sv"])
    return {"language_switch": {"code": code, "name": name, "url": translate_url(request.path, code)}}
