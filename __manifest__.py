{
    "name": "Marketing Automation",
    "version": "18.0.1.0.2",
    "category": "Marketing",
    "sequence": 195,
    "summary": "Automated marketing campaigns: email, SMS and server-action workflows",
    "description": """
Campaigns that run by themselves: a target model and filter, participants enrolled
continuously, and a tree of email, SMS and server-action activities triggered after a
delay or on the parent's mail being opened, replied, clicked or bounced.
""",
    "author": "Marketing Automation Community contributors",
    "website": "https://github.com/marketing-automation-community/marketing_automation_community",
    "license": "LGPL-3",
    "depends": ["mass_mailing", "mass_mailing_sms"],
    "data": [
        "security/marketing_automation_groups.xml",
        "security/ir.model.access.csv",
        "security/marketing_automation_security.xml",
        "data/ir_cron_data.xml",
        "data/marketing_campaign_blueprint_data.xml",
        "wizard/marketing_campaign_test_views.xml",
        "views/marketing_favorite_filter_views.xml",
        "views/marketing_trace_views.xml",
        "views/marketing_participant_views.xml",
        "views/marketing_activity_views.xml",
        "views/marketing_campaign_views.xml",
        "views/marketing_campaign_template_views.xml",
        "views/mailing_mailing_views.xml",
        "views/res_config_settings_views.xml",
        "views/marketing_automation_report_views.xml",
        "views/marketing_automation_menus.xml",
    ],
    "demo": [
        "demo/marketing_campaign_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "marketing_automation_community/static/src/**/*",
            ("remove", "marketing_automation_community/static/src/lazy/**/*"),
        ],
        # graph and pivot views load lazily: their extensions too
        "web.assets_backend_lazy": [
            "marketing_automation_community/static/src/lazy/**/*",
        ],
        "web.assets_unit_tests": [
            "marketing_automation_community/static/tests/**/*",
            ("remove", "marketing_automation_community/static/tests/tours/**/*"),
        ],
        "web.assets_tests": [
            "marketing_automation_community/static/tests/tours/**/*",
        ],
    },
    "uninstall_hook": "uninstall_hook",
    "application": True,
    "installable": True,
}
