from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import pgettext_lazy

from ecpat_site import views
from ecpat_site.health import healthz
from prevention.views import old_english_address, sitemap
from privacy.views import quick_exit

# Not translated: machines and the quick exit must find these at one address.
urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("exit/", quick_exit, name="quick-exit"),
    # Statistics pages behind the admin site's two-factor login (insights/urls.py).
    path("admin/statistik/", include("insights.urls")),
    path("admin/", admin.site.urls),
    path("sitemap.xml", sitemap, name="sitemap"),
    # The partner feed: bearer tokens only, never a cookie (docs/partner-feed.md).
    path("api/v1/feed/", include("hotline.api_urls")),
]

# Swedish at the root, English under /en/.
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("", include("privacy.urls")),
    path("chat/", include("supportline.urls")),
    path("hotline/", include("hotline.urls")),
    path(pgettext_lazy("url", "kunskap/"), include("prevention.urls")),
    # English pages used to live under /en/kunskap/; those links keep working.
    re_path(r"^kunskap/(?P<rest>.*)\Z", old_english_address, name="prevention-old-english"),
    prefix_default_language=False,
)

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
