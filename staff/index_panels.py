"""Panels other apps contribute to the admin start page, without staff importing them.

An app lists its panels on its AppConfig, as plain data (like
``role_permissions``), so staff, on the ground floor, never imports the app::

    class RetentionConfig(AppConfig):
        admin_index_panels = [
            {
                "template": "admin/retention/index_panel.html",
                "context": "retention.admin.index_panel_context",
                "permission": "retention.view_retentionrun",
            },
        ]

* ``permission``: the panel applies only to users who hold it (leave it out
  and it applies to every staff member on the start page, who has already
  passed the second factor);
* ``context``: the dotted path of ``callable(request) -> dict | None``; it
  returns ``None`` when there is nothing to show (no failed run, no stuck
  hand-off), otherwise the template's context;
* ``template``: rendered with that context and the request.

The start page shows the panels that apply, above the list of apps, in
INSTALLED_APPS order.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class IndexPanel:
    template: str
    context: str
    permission: str = ""

    def render(self, request: HttpRequest) -> SafeString | None:
        """The panel's HTML for this request, or None when it does not apply or has nothing to show."""
        if self.permission and not request.user.has_perm(self.permission):
            return None
        context_for: Callable[[HttpRequest], dict[str, Any] | None] = import_string(self.context)
        context = context_for(request)
        if context is None:
            return None
        return render_to_string(self.template, context, request)


def index_panels() -> list[IndexPanel]:
    return [
        IndexPanel(**panel) for config in apps.get_app_configs() for panel in getattr(config, "admin_index_panels", [])
    ]


def rendered_index_panels(request: HttpRequest) -> list[SafeString]:
    return [html for panel in index_panels() if (html := panel.render(request)) is not None]
