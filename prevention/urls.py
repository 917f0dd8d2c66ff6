from django.urls import path
from django.utils.translation import pgettext_lazy

from prevention import views
from prevention.models import Article

app_name = "prevention"

# Addresses are Swedish at the root and English under /en/ (translated in locale/en).
urlpatterns = [
    path("", views.index, name="index"),
    path(
        pgettext_lazy("url", "barn/"),
        views.audience,
        {"audience": Article.Audience.CHILDREN.value},
        name="audience",
    ),
    path(pgettext_lazy("url", "unga/"), views.audience, {"audience": Article.Audience.YOUTH.value}, name="audience"),
    path(
        pgettext_lazy("url", "foraldrar/"),
        views.audience,
        {"audience": Article.Audience.PARENTS.value},
        name="audience",
    ),
    path(pgettext_lazy("url", "amne/<slug:slug>/"), views.topic, name="topic"),
    path(pgettext_lazy("url", "artikel/<slug:slug>/"), views.article, name="article"),
    path(pgettext_lazy("url", "sok/"), views.search, name="search"),
]
