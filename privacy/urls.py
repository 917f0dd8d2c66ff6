from django.urls import path

from bilingual import route
from privacy import views

app_name = "privacy"

urlpatterns = [
    path(route("sakerhet/", "safety/"), views.safety, name="safety"),
]
