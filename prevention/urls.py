from django.urls import path

from bilingual import route
from prevention import views
from prevention.models import Article

app_name = "prevention"

CHILDREN = Article.Audience.CHILDREN.value
YOUTH = Article.Audience.YOUTH.value
PARENTS = Article.Audience.PARENTS.value

# Swedish at the root, English under /en/ (bilingual.route).
urlpatterns = [
    path("", views.index, name="index"),
    path(route("barn/", "children/"), views.audience, {"audience": CHILDREN}, name="audience"),
    path(route("unga/", "youth/"), views.audience, {"audience": YOUTH}, name="audience"),
    path(route("foraldrar/", "parents/"), views.audience, {"audience": PARENTS}, name="audience"),
    path(route("amne/<slug:slug>/", "topic/<slug:slug>/"), views.topic, name="topic"),
    path(route("artikel/<slug:slug>/", "article/<slug:slug>/"), views.article, name="article"),
    path(route("sok/", "search/"), views.search, name="search"),
]
