from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("sakerhet/", views.safety, name="safety"),
]
