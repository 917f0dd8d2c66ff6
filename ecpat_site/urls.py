from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path

from bilingual import route
from ecpat_site import views
from ecpat_site.health import healthz
from privacy.views import quick_exit

# Not translated: machines and the quick exit must find these at one address.
urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("exit/", quick_exit, name="quick-exit"),
    # Statistics pages behind the admin site's two-factor login (insights/urls.py).
    path("admin/statistik/", include("insights.urls")),
    path("admin/", admin.site.urls),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    # The partner feed: bearer tokens only, never a cookie (docs/partner-feed.md).
    path("api/v1/feed/", include("hotline.api_urls")),
]

# Swedish at the root, English under /en/.
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("", include("privacy.urls")),
    path("chat/", include("supportline.urls")),
    path("hotline/", include("hotline.urls")),
    path(route("kunskap/", "knowledge/"), include("prevention.urls")),
    prefix_default_language=False,
)

# English pages once had Swedish words in their addresses (/en/chat/brev/, /en/kunskap/…):
# whatever under /en/ is no page is looked up there and redirected. Only addresses ending
# in "/", so that /en/chat still gets its slash appended.
urlpatterns += [re_path(r"^en/(?P<rest>.+/)\Z", views.old_english_address, name=views.OLD_ENGLISH_ADDRESS)]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
