from django.urls import path

from bilingual import route
from hotline import views

app_name = "hotline"

urlpatterns = [
    path("", views.index, name="index"),
    path(route("kvitto/", "receipt/"), views.receipt, name="receipt"),
    path("status/", views.status, name="status"),
]
