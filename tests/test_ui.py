from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user


@tagged("marketing_automation", "post_install", "-at_install")
class TestUi(HttpCase):
    def test_launch_and_run_a_test(self):
        """A marketing user opens a campaign, launches a test on a contact and
        runs its first step from the test screen."""
        mail_new_test_user(
            self.env,
            login="tour_marketing_user",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_user",
        )
        partner_model = self.env["ir.model"]._get("res.partner")
        contact = self.env["res.partner"].create({"name": "Tour Contact", "ref": False})
        action = self.env["ir.actions.server"].create(
            {
                "name": "Tour: tag the contact",
                "model_id": partner_model.id,
                "state": "object_write",
                "update_path": "ref",
                "value": "toured",
            }
        )
        campaign = self.env["marketing.campaign"].create(
            {"name": "Tour Campaign", "model_id": partner_model.id}
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
