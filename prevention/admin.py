"""The editors' workspace: articles and topics with revision history and a true preview."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from reversion.admin import VersionAdmin

from prevention import selectors, services
from prevention.models import Article, Topic, review_due_before
from staff.access import acting_staff
from staff.admin_mixins import RoleRequiredAdmin
from staff.roles import Role


@admin.register(Topic)
class TopicAdmin(RoleRequiredAdmin, VersionAdmin):
    roles = (Role.EDITOR,)
    list_display = ["name_sv", "name_en", "slug", "position"]
    prepopulated_fields = {"slug": ["name_sv"]}
    search_fields = ["name_sv", "name_en"]

    def save_model(self, request: HttpRequest, obj: Topic, form: Any, change: bool) -> None:
        services.topic_save(topic=obj)

    def delete_model(self, request: HttpRequest, obj: Topic) -> None:
        services.topic_delete(topic=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        for topic in queryset:
            services.topic_delete(topic=topic)


class FactCheckFilter(admin.SimpleListFilter):
    title = _("faktagranskning")
    parameter_name = "fact_check"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("due", str(_("Äldre än ett år")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Article]) -> QuerySet[Article]:
        if self.value() == "due":
            return queryset.filter(last_reviewed__lt=review_due_before())
        return queryset


def review_panel_context(request: HttpRequest) -> dict[str, Any] | None:
    """The admin start page's reminder: shown only while some article's fact-check is over a year old."""
    due = selectors.articles_due_for_review()
    return {"due_count": due} if due else None


@admin.register(Article)
class ArticleAdmin(RoleRequiredAdmin, VersionAdmin):
    roles = (Role.EDITOR,)
    list_display = ["title", "language", "status", "is_live", "audience_list", "fact_check", "updated_at"]
    list_filter = ["language", "status", FactCheckFilter, "for_children", "for_youth", "for_parents", "topics"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["translation_of"]
    readonly_fields = ["reading_minutes", "preview_link", "fact_check", "created_at", "updated_at"]
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    actions = ["publish_now", "archive"]
    fieldsets = [
        (None, {"fields": ["language", "title", "slug", "summary", "body", "preview_link"]}),
        (_("Målgrupp och ämnen"), {"fields": ["for_children", "for_youth", "for_parents", "topics"]}),
        (_("Publicering"), {"fields": ["status", "publish_at", "translation_of"]}),
        (
            _("Ansvar och faktagranskning"),
            {
                "fields": ["author", "last_reviewed", "fact_check", "reading_minutes", "created_at", "updated_at"],
                "description": _(
                    "Texter som tar upp lag eller statistik ska avslutas med rubriken Källor och sina källor. "
                    "Granska texten mot källorna och ändra datumet minst en gång om året."
                ),
            },
        ),
    ]

    @admin.display(boolean=True, description=_("Syns nu"))
    def is_live(self, obj: Article) -> bool:
        return obj.is_public()

    @admin.display(description=_("Faktagranskad"), ordering="last_reviewed")
    def fact_check(self, obj: Article) -> str:
        if obj.pk is None:
            return ""
        if obj.review_due():
            return format_html(
                '<strong class="fact-check-due">{}: {}</strong>', obj.last_reviewed, _("dags att granska igen")
            )
        return str(obj.last_reviewed)

    @admin.display(description=_("Målgrupp"))
    def audience_list(self, obj: Article) -> str:
        return ", ".join(str(audience.label) for audience in obj.audiences)

    @admin.display(description=_("Förhandsvisning"))
    def preview_link(self, obj: Article) -> str:
        if obj.pk is None:
            return str(_("Spara först, sedan kan du förhandsvisa."))
        url = reverse("admin:prevention_article_preview", args=[obj.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Visa som på webbplatsen"))

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
        initial.setdefault("author", request.user.pk)
        return initial

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        services.article_save(article=obj, actor=acting_staff(request))

    def delete_model(self, request: HttpRequest, obj: Article) -> None:
        services.article_delete(article=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        for article in queryset:
            services.article_delete(article=article)

    @admin.action(description=_("Publicera valda artiklar nu"), permissions=["change"])
    def publish_now(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        for article in queryset:
            services.article_publish(article=article, actor=acting_staff(request))
        self.message_user(request, _("Artiklarna är publicerade."), messages.SUCCESS)

    @admin.action(description=_("Arkivera valda artiklar"), permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        for article in queryset:
            services.article_archive(article=article, actor=acting_staff(request))
        self.message_user(request, _("Artiklarna är arkiverade."), messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "<int:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="prevention_article_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The article exactly as the public page renders it, whatever its status."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        article = (
            Article.objects.select_related("translation_of", "translated_as")
            .prefetch_related("topics")
            .filter(pk=object_id)
            .first()
        )
        if article is None:
            raise Http404
        with translation.override(article.language):
            response = render(request, "prevention/article.html", selectors.article_page_context(article, preview=True))
        response["Cache-Control"] = "no-store, private"
        response["X-Robots-Tag"] = "noindex"
        return response
