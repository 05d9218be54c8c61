from odoo import http
from odoo.tests import HttpCase, tagged

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestWorkflowEditorUi(MarketingAutomationCommon, HttpCase):
    """The workflow editor and the test screen in a real browser, as a
    marketing user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # see test_ui: build the static paths before the browser's parallel requests
        if "marketing_automation_community" not in http.root.statics:
            raise AssertionError("The addon's static folder (tours) is not served.")

    def test_build_and_test_a_workflow(self):
        """A new user builds a branch on an unsaved campaign, saves it, tests
        it: the email, then the simulated open, which cancels "not opened"."""
        self._create_marketing_mailing("Tour welcome mail", "mail")
        self.env["ir.actions.server"].create(
            {
                "name": "Tour: tag the contact",
                "model_id": self.partner_model.id,
                "state": "object_write",
                "update_path": "ref",
                "value": "toured",
            }
        )
        contact = self.env["res.partner"].create(
            {"name": "Tour Contact", "email": "tour.contact@example.com"}
        )

        with self.mock_mail_gateway():
            self.start_tour(
                "/odoo", "marketing_automation_workflow_tour", login="user_marketing_automation"
            )

        campaign = self.env["marketing.campaign"].search([("name", "=", "Tour Workflow")])
        activities = {activity.name: activity for activity in campaign.marketing_activity_ids}
        self.assertEqual(set(activities), {"Welcome", "Thank the reader", "Remind"})
        welcome = activities["Welcome"]
        self.assertEqual(welcome.activity_type, "email")
        self.assertEqual(welcome.mass_mailing_id.subject, "Tour welcome mail")
        self.assertEqual(
            [
                (name, activities[name].parent_id, activities[name].trigger_type)
                for name in ("Welcome", "Thank the reader", "Remind")
            ],
            [
                ("Welcome", self.env["marketing.activity"], "begin"),
                ("Thank the reader", welcome, "mail_open"),
                ("Remind", welcome, "mail_not_open"),
            ],
        )
        participant = campaign.participant_ids
        self.assertTrue(participant.is_test)
        self.assertEqual(participant.res_id, contact.id)
        self.assertEqual(participant.state, "completed")
        states = {trace.activity_id.name: trace.state for trace in participant.trace_ids}
        self.assertEqual(
            states, {"Welcome": "processed", "Thank the reader": "processed", "Remind": "canceled"}
        )
        self.assertEqual(contact.ref, "toured")

    def test_block_figures(self):
        """A running campaign's blocks show their totals, chart, filter and
        mail statistics; a figure opens its traces."""
        campaign = self._create_campaign()
        email = self._create_activity(
            campaign,
            "email",
            name="Welcome",
            domain=repr([("id", "!=", self.contacts[2].id)]),
        )
        self._create_activity(campaign, "action", parent=email, name="Tag")
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
            campaign.execute_activities()
            self._send_queued_mails()
        self._traces(email, self.contacts[0]).mailing_trace_ids.set_opened()

        self.start_tour(
            f"/odoo/marketing-automation/{campaign.id}",
            "marketing_automation_metrics_tour",
            login="user_marketing_automation",
        )
