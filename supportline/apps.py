from django.apps import AppConfig

# Opening hours, holidays, other help and counsellor profiles: kept up by
# supervisors and administrators alike.
_STAFF_MAINTAINED = {
    "supportline.view_counsellorprofile",
    "supportline.add_counsellorprofile",
    "supportline.change_counsellorprofile",
    "supportline.view_openinghours",
    "supportline.add_openinghours",
    "supportline.change_openinghours",
    "supportline.delete_openinghours",
    "supportline.view_specialday",
    "supportline.add_specialday",
    "supportline.change_specialday",
    "supportline.delete_specialday",
    "supportline.view_otherhelp",
    "supportline.add_otherhelp",
    "supportline.change_otherhelp",
    "supportline.delete_otherhelp",
}


class SupportlineConfig(AppConfig):
    """Anonymous real-time chat between a young person and a counsellor."""

    name = "supportline"
    verbose_name = "Stödlinjen"

    # Counsellors and supervisors see chats; analysts and editors see none.
    role_permissions = {
        "counsellor": {
            "supportline.view_conversation",
            "supportline.view_cannedresponse",
            "supportline.view_visitorblock",
            "supportline.view_classification",
            "supportline.view_counsellorprofile",
            "supportline.view_letter",
        },
        "supervisor": {
            "supportline.view_conversation",
            "supportline.view_cannedresponse",
            "supportline.add_cannedresponse",
            "supportline.change_cannedresponse",
            "supportline.delete_cannedresponse",
            "supportline.view_visitorblock",
            "supportline.change_visitorblock",
            "supportline.view_classification",
            "supportline.view_feedback",
            "supportline.view_letter",
            *_STAFF_MAINTAINED,
        },
        "administrator": _STAFF_MAINTAINED,
    }
    # Run by retention.tasks; the periods are RETENTION_DAYS["transcripts"], ["feedback"] and ["letters"].
    retention_policies = {
        "transcripts": {"purge": "supportline.services.purge_transcripts", "every_seconds": 60 * 60},
        "feedback": {"purge": "supportline.services.purge_feedback", "every_seconds": 6 * 60 * 60},
        "letters": {"purge": "supportline.letters.services.purge_letters", "every_seconds": 60 * 60},
    }
    # The console link, with waiting chats and unanswered letters, for everyone who answers them.
    admin_index_panels = [
        {
            "template": "admin/supportline/letters/index_panel.html",
            "context": "supportline.letters.admin.index_panel_context",
            "permission": "supportline.view_conversation",
        },
    ]

    def ready(self) -> None:
        from supportline import signals  # noqa: F401 - connects the receivers
