from django.urls import path

from supportline import views
from supportline.letters import views as letter_views

app_name = "supportline"

urlpatterns = [
    path("", views.index, name="index"),
    path("lamna/", views.leave, name="leave"),
    path("aterkoppling/", views.feedback, name="feedback"),
    path("tack/", views.feedback_thanks, name="feedback-thanks"),
    # Letters (Brevlådan): the code travels only in form bodies, never in these paths.
    path("brev/", letter_views.index, name="letters"),
    path("brev/skriv/", letter_views.write, name="letters-write"),
    path("brev/kod/", letter_views.code, name="letters-code"),
    path("brev/oppna/", letter_views.open_thread, name="letters-open"),
    path("brev/las/", letter_views.thread, name="letters-thread"),
    path("brev/avsluta/", letter_views.close, name="letters-close"),
    path("brev/las-igen/", letter_views.lock, name="letters-lock"),
]
