from django.urls import path

from bilingual import route
from supportline import views
from supportline.letters import views as letter_views

app_name = "supportline"

urlpatterns = [
    path("", views.index, name="index"),
    path(route("lamna/", "leave/"), views.leave, name="leave"),
    path(route("aterkoppling/", "feedback/"), views.feedback, name="feedback"),
    path(route("tack/", "thanks/"), views.feedback_thanks, name="feedback-thanks"),
    # Letters (Brevlådan): the code travels only in form bodies, never in these paths.
    path(route("brev/", "letters/"), letter_views.index, name="letters"),
    path(route("brev/skriv/", "letters/write/"), letter_views.write, name="letters-write"),
    path(route("brev/kod/", "letters/code/"), letter_views.code, name="letters-code"),
    path(route("brev/oppna/", "letters/open/"), letter_views.open_thread, name="letters-open"),
    path(route("brev/las/", "letters/read/"), letter_views.thread, name="letters-thread"),
    path(route("brev/avsluta/", "letters/close/"), letter_views.close, name="letters-close"),
    path(route("brev/las-igen/", "letters/lock/"), letter_views.lock, name="letters-lock"),
]
