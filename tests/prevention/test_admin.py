"""The editors' admin: role, revision history, a true preview, cache dropped on save."""

import re

import pytest
from django.test import Client
from reversion.models import Version

from prevention import services
from prevention.models import Article, Topic
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client: Client) -> Client:
    login_verified(client, StaffUserFactory(role=Role.EDITOR))
    return client


def article_form(**overrides):
    data = {
        "language": "sv",
        "title": "Från admin",
        "slug": "fran-admin",
        "summary": "En ingress.",
        "body": "Text om en **bild**.",
        "for_children": "on",
        "status": "published",
        "publish_at_0": "",
        "publish_at_1": "",
        "translation_of": "",
        "author": "",
        "last_reviewed": "2026-11-29",
    }
    data.update(overrides)
    return data


def article_html(html: str) -> str:
    found = re.search(r"<article .*?</article>", html, re.S)
    assert found is not None
    return found.group(0)


def test_editor_sees_only_prevention_in_the_admin(editor_client: Client):
    response = editor_client.get("/admin/")
    assert response.status_code == 200
    assert [app["app_label"] for app in response.context["app_list"]] == ["prevention"]
    assert editor_client.get("/admin/prevention/article/").status_code == 200


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.ANALYST, Role.SUPERVISOR])
def test_other_roles_cannot_reach_articles(client: Client, role):
    login_verified(client, StaffUserFactory(role=role))
    assert client.get("/admin/prevention/article/").status_code == 403


def test_editor_without_second_factor_is_kept_out(client: Client):
    client.force_login(StaffUserFactory(role=Role.EDITOR))  # type: ignore[arg-type]
    response = client.get("/admin/prevention/article/")
    # The two-factor admin site sends a password-only session back to the login.
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not response.content


def test_saving_in_the_admin_keeps_revisions_and_drops_the_cache(
    editor_client: Client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post("/admin/prevention/article/add/", article_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get(slug="fran-admin")
    assert article.publish_at is not None and article.reading_minutes == 1
    assert "bild" in article.body_text
    public = Client()
    assert "Från admin" in public.get("/kunskap/barn/").text  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(f"/admin/prevention/article/{article.pk}/change/", article_form(title="Ändrad i admin"))
    assert Version.objects.get_for_object(article).count() == 2
    assert "Ändrad i admin" in public.get("/kunskap/barn/").text
    history = editor_client.get(f"/admin/prevention/article/{article.pk}/history/")
    assert history.status_code == 200


def test_bad_input_gives_a_swedish_error_next_to_the_field(editor_client: Client):
    response = editor_client.post("/admin/prevention/article/add/", article_form(status="scheduled"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Ange när en schemalagd artikel ska publiceras." in errors["publish_at"]
    assert "Från admin" in response.text  # what was typed is kept


def test_preview_renders_exactly_like_the_public_page(
    editor_client: Client, make_article, django_capture_on_commit_callbacks
):
    topic = Topic.objects.create(
        slug="lagen", slug_en="the-law", name_sv="Vad lagen säger", name_en="What the law says"
    )
    make_article(slug="syskon", topics=[topic])
    draft = make_article(slug="forhand", title="Förhandsvisad", status=Article.Status.DRAFT, topics=[topic])
    preview = editor_client.get(f"/admin/prevention/article/{draft.pk}/preview/")
    assert preview.status_code == 200
    assert "Förhandsvisning" in preview.text
    assert "no-store" in preview["Cache-Control"]
    assert Client().get("/kunskap/artikel/forhand/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        services.article_publish(article=draft)
    public = Client().get("/kunskap/artikel/forhand/")
    assert article_html(preview.text) == article_html(public.text)
    assert "Förhandsvisning" not in public.text


def test_preview_of_an_english_article_is_in_english(editor_client: Client, make_article):
    article = make_article(language="en", slug="english", status=Article.Status.DRAFT)
    preview = editor_client.get(f"/admin/prevention/article/{article.pk}/preview/")
    assert '<html lang="en">' in preview.text and "Chat with us" in preview.text


def test_preview_needs_the_editor_role(client: Client, make_article):
    article = make_article(status=Article.Status.DRAFT)
    login_verified(client, StaffUserFactory(role=Role.COUNSELLOR))
    assert client.get(f"/admin/prevention/article/{article.pk}/preview/").status_code == 403


def test_publish_action_publishes(editor_client: Client, make_article, django_capture_on_commit_callbacks):
    draft = make_article(status=Article.Status.DRAFT, slug="via-atgard")
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post("/admin/prevention/article/", {"action": "publish_now", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Article.Status.PUBLISHED
    assert Client().get("/kunskap/artikel/via-atgard/").status_code == 200


def test_reverting_a_revision_saves_through_the_service(editor_client: Client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post("/admin/prevention/article/add/", article_form(title="Första versionen"))
    article = Article.objects.get(slug="fran-admin")
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(
            f"/admin/prevention/article/{article.pk}/change/", article_form(title="Andra versionen", body="Kort.")
        )
    public = Client()
    assert "Andra versionen" in public.get("/kunskap/artikel/fran-admin/").text
    first = Version.objects.get_for_object(article).order_by("pk").first()
    url = f"/admin/prevention/article/{article.pk}/history/{first.pk}/"
    form = editor_client.get(url)
    assert form.status_code == 200 and "Första versionen" in form.text
    article.refresh_from_db()
    assert article.title == "Andra versionen"  # looking at a revision changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url, article_form(title="Första versionen"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Första versionen" and "bild" in article.body_text
    assert "Första versionen" in public.get("/kunskap/artikel/fran-admin/").text
