from django.urls import path

from hotline import feed_views

app_name = "feed"

urlpatterns = [
    path("urls", feed_views.feed_urls, name="urls"),
    path("url-hashes", feed_views.feed_url_hashes, name="url-hashes"),
    path("keys", feed_views.feed_keys, name="keys"),
]
