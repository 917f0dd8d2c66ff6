from django.urls import path

from supportline import views

app_name = "supportline"

urlpatterns = [
    path("", views.index, name="index"),
    path("lamna/", views.leave, name="leave"),
    path("aterkoppling/", views.feedback, name="feedback"),
    path("tack/", views.feedback_thanks, name="feedback-thanks"),
]
