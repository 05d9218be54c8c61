from odoo import http
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user


@tagged("marketing_automation", "post_install", "-at_install")
class TestUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The browser's first requests arrive together, and each server thread
        # would read every manifest to build the static paths. CPython 3.11
        # before 3.11.8 can raise "AST constructor recursion depth mismatch"
        # when threads parse at the same time (gh-106905): build them once here.
        if "marketing_automation_community" not in http.root.statics:
            raise AssertionError("The addon's static folder (tours) is not served.")
        mail_new_test_user(
            cls.env,
            login="tour_marketing_user",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_user",
        )
        cls.partner_model = cls.env["ir.model"]._get("res.partner")
        cls.action = cls.env["ir.actions.server"].create(
            {
                "name": "Tour: tag the contact",
                "model_id": cls.partner_model.id,
                "state": "object_write",
                "update_path": "ref",
                "value": "toured",
            }
        )

    def test_create_campaign_with_activity(self):
        """A marketing user creates a campaign and its first activity by hand."""
        self.start_tour("/odoo", "marketing_automation_create_tour", login="tour_marketing_user")

        campaign = self.env["marketing.campaign"].search([("name", "=", "Tour Created")])
        self.assertEqual(campaign.model_name, "res.partner")
        self.assertEqual(campaign.state, "draft")
        self.assertEqual(campaign.user_id.login, "tour_marketing_user")
        self.assertEqual(campaign.marketing_activity_ids.name, "Tag created")
        self.assertEqual(campaign.marketing_activity_ids.activity_type, "action")
        self.assertEqual(campaign.marketing_activity_ids.server_action_id, self.action)
        self.assertEqual(campaign.marketing_activity_ids.trigger_type, "begin")

    def test_launch_and_run_a_test(self):
        """A marketing user opens a campaign, launches a test on a contact and
        runs its first step from the test screen."""
        partner_model = self.partner_model
        action = self.action
        contact = self.env["res.partner"].create({"name": "Tour Contact", "ref": False})
        campaign = self.env["marketing.campaign"].create(
            {
                "name": "Tour Campaign",
                "model_id": partner_model.id,
                "user_id": self.env.ref("base.user_admin").id,
            }
        )
        self.env["marketing.activity"].create(
            {
                "name": "Tag",
                "campaign_id": campaign.id,
                "activity_type": "action",
                "server_action_id": action.id,
                "interval_number": 2,
                "interval_type": "days",
            }
        )

        self.start_tour("/odoo", "marketing_automation_test_tour", login="tour_marketing_user")

        participant = campaign.participant_ids
        self.assertTrue(participant.is_test)
        self.assertEqual(participant.res_id, contact.id)
        self.assertEqual(participant.state, "completed")
        self.assertEqual(participant.trace_ids.state, "processed")
        self.assertEqual(contact.ref, "toured")
        # testing the campaign made the tour user its responsible: the test ran with his rights
        self.assertEqual(campaign.user_id.login, "tour_marketing_user")
