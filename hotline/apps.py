from django.apps import AppConfig


class HotlineConfig(AppConfig):
    """Anonymous tips about the sexual exploitation of children, and their path to the police."""

    name = "hotline"
    verbose_name = "Hotline"
    # Only analysts see tips. Counsellors, editors and administrators see none;
    # no role may delete a tip (retention alone purges closed tips).
    role_permissions = {
        "analyst": {
            "hotline.view_tip",
            "hotline.change_tip",
            "hotline.view_policehandoff",
            "hotline.retry_policehandoff",
            "hotline.view_tipurl",
            "hotline.decide_tipurl",
            "hotline.view_provider",
            "hotline.add_provider",
            "hotline.change_provider",
            "hotline.view_takedownnotice",
            "hotline.send_takedownnotice",
        },
        # Partners and their API tokens are an administrator's business.
        "administrator": {
            "hotline.view_partner",
            "hotline.add_partner",
            "hotline.change_partner",
            "hotline.view_partnertoken",
            "hotline.manage_partnertoken",
        },
    }
    # Run by retention.tasks; the periods are RETENTION_DAYS["tip_contact_details"] and ["closed_tips"].
    retention_policies = {
        "tip_contact_details": {"purge": "hotline.services.purge_tip_contact_details", "every_seconds": 6 * 60 * 60},
        "closed_tips": {"purge": "hotline.services.purge_closed_tips", "every_seconds": 6 * 60 * 60},
        "partner_token_uses": {"purge": "hotline.services.purge_partner_token_uses", "every_seconds": 24 * 60 * 60},
    }
    # Warns analysts on the admin start page while hand-offs are not getting through.
    admin_index_panels = [
        {
            "template": "admin/hotline/handoff_health_panel.html",
            "context": "hotline.admin.handoff_health_panel_context",
            "permission": "hotline.view_policehandoff",
        },
        # Notices that got no removal after a reminder (NOTICE_ESCALATE_HOURS).
        {
            "template": "admin/hotline/notice_escalation_panel.html",
            "context": "hotline.takedown_admin.notice_escalation_panel_context",
            "permission": "hotline.view_takedownnotice",
        },
    ]
