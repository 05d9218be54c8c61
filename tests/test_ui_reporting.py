from odoo import http
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.mass_mailing.tests.common import MassMailCase


@tagged("marketing_automation", "post_install", "-at_install")
class TestUiReporting(HttpCase, MassMailCase):
    """A marketing user reads a campaign's smart buttons, loads a favorite
    filter and opens each Reporting view."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # see tests/test_ui.py: build the static paths before the browser's requests
        if "marketing_automation_community" not in http.root.statics:
            raise AssertionError("The addon's static folder (tours) is not served.")
        cls.user = mail_new_test_user(
            cls.env,
            login="tour_reporting_user",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_user",
        )
        partner_model = cls.env["ir.model"]._get("res.partner")
        cls.contacts = cls.env["res.partner"].create(
            [
                {
                    "name": f"Reported {index}",
                    "email": f"reported.{index}@example.com",
                    "country_id": cls.env.ref("base.be").id,
                }
                for index in range(3)
            ]
        )
        cls.env["marketing.favorite.filter"].create(
            {
                "name": "Belgian contacts",
                "model_id": partner_model.id,
                "domain": repr([("country_id.code", "=", "BE")]),
            }
        )
        mailing = cls.env["mailing.mailing"].create(
            {
                "subject": "Reporting Tour Welcome",
                "mailing_type": "mail",
                "mailing_model_id": partner_model.id,
                "use_in_marketing_automation": True,
                "body_html": "<p>Hello <a href='https://www.example.com/tour'>Offer</a></p>",
            }
        )
        cls.campaign = cls.env["marketing.campaign"].create(
            {
                "name": "Reporting Tour",
                "model_id": partner_model.id,
                "domain": repr([("id", "in", cls.contacts.ids)]),
                "user_id": cls.user.id,
            }
        )
        cls.activity = cls.env["marketing.activity"].create(
            {
                "name": "Welcome",
                "campaign_id": cls.campaign.id,
                "activity_type": "email",
                "mass_mailing_id": mailing.id,
                "interval_number": 0,
            }
        )

    def test_reporting_views_and_smart_buttons(self):
        with self.mock_mail_gateway():
            self.campaign.action_start_campaign()
            self.campaign.sync_participants()
            self.campaign.execute_activities()
        trace = self.activity.trace_ids.filtered(lambda t: t.res_id == self.contacts[0].id)
        link = self.env["link.tracker"].search(
            [("mass_mailing_id", "=", self.activity.mass_mailing_id.id)]
        )
        self.env["link.tracker.click"].sudo().add_click(
            link.code,
            ip="100.200.30.40",
            country_code="BE",
            mailing_trace_id=trace.mailing_trace_ids.id,
        )
        self.start_tour("/odoo", "marketing_automation_reporting_tour", login="tour_reporting_user")
        self.assertEqual(self.campaign.domain, repr([("country_id.code", "=", "BE")]))
        self.assertEqual(self.campaign.user_id, self.user)

    def test_activity_filter_counts_its_reach(self):
        """An activity filter that matches every contact with an email counts
        only the campaign's contacts."""
        self.activity.domain = "[('email', '!=', False)]"
        self.assertGreater(self.env["res.partner"].search_count([("email", "!=", False)]), 3)
        self.start_tour(
            f"/odoo/marketing.activity/{self.activity.id}",
            "marketing_automation_activity_filter_tour",
            login="tour_reporting_user",
        )
