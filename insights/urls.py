"""The insights pages, under /admin/statistik/ and behind the admin site's login and second factor."""

from django.contrib import admin
from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("stodlinjen/", admin.site.admin_view(views.support), name="support"),
    path("hotline/", admin.site.admin_view(views.hotline), name="hotline"),
    path("forebyggande/", admin.site.admin_view(views.prevention), name="prevention"),
]
