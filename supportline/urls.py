from django.urls import path

from supportline import views

app_name = "supportline"

urlpatterns = [
    path("", views.index, name="index"),
]
