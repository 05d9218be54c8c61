from odoo import http
from odoo.tests import HttpCase, tagged

from .common import MarketingAutomationCommon, PhoneMixin

ACTION = "/odoo/action-marketing_automation_community.marketing_campaign_action"


class EditorDialogsUiCommon(MarketingAutomationCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # see test_ui: build the static paths before the browser's parallel requests
        if "marketing_automation_community" not in http.root.statics:
            raise AssertionError("The addon's static folder (tours) is not served.")

    def _stopped_campaign(self):
        """A stopped campaign whose email reached the three contacts."""
        campaign = self._create_campaign(name="Tour Delete")
        self._create_activity(campaign, "email", name="Welcome")
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
        campaign.action_stop_campaign()
        return campaign

    def _check_delete_and_delay(self):
        """The delete confirmation names what goes; the activity dialog refuses
        a negative delay."""
        campaign = self._stopped_campaign()
        self.assertEqual(len(campaign.participant_ids), 3)
        self.start_tour(
            f"{ACTION}/{campaign.id}",
            "marketing_automation_delete_dialog_tour",
            login="user_marketing_automation",
        )
        self.assertTrue(campaign.exists())
        self.assertEqual(campaign.marketing_activity_ids.interval_number, 2)

    def _check_delete_running(self):
        campaign = self._create_campaign(name="Tour Running")
        self._create_activity(campaign, "email", name="Welcome")
        campaign.action_start_campaign()
        self.start_tour(
            f"{ACTION}/{campaign.id}",
            "marketing_automation_delete_running_tour",
            login="user_marketing_automation",
        )
        self.assertTrue(campaign.exists())


@tagged("marketing_automation", "post_install", "-at_install")
class TestEditorDialogsUi(EditorDialogsUiCommon):
    """At desktop size."""

    def test_delete_dialog_and_negative_delay(self):
        self._check_delete_and_delay()

    def test_delete_running_campaign(self):
        self._check_delete_running()

    def test_typed_subject_and_target_change(self):
        """A new template keeps the subject typed in the activity's field; a
        new target is refused at once, the activities belonging to the former,
        and nothing is logged as an error."""
        campaign = self._create_campaign(name="Tour Target", domain=[("user_id", "!=", False)])
        self._create_activity(campaign, "email", name="Welcome")
        self.assertEqual(len(self.contacts), 3)
        self.start_tour(
            f"{ACTION}/{campaign.id}",
            "marketing_automation_subject_target_tour",
            login="user_marketing_automation",
        )
        self.assertFalse(self.env["mailing.mailing"].search([("subject", "=", "My own subject")]))
        self.assertEqual(campaign.model_id, self.partner_model)


@tagged("marketing_automation", "post_install", "-at_install")
class TestEditorDialogsPhoneUi(PhoneMixin, EditorDialogsUiCommon):
    """At phone size, with touch."""

    def test_delete_dialog_and_negative_delay(self):
        self._check_delete_and_delay()

    def test_delete_running_campaign(self):
        self._check_delete_running()
