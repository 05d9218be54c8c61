from odoo import http
from odoo.tests import HttpCase, tagged

from .common import MarketingAutomationCommon, PhoneMixin

ACTION = "/odoo/action-marketing_automation_community.marketing_campaign_action"


@tagged("marketing_automation", "post_install", "-at_install")
class TestScreensPhoneUi(PhoneMixin, MarketingAutomationCommon, HttpCase):
    """The template cards and the workflow on a phone: nothing off-screen."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # see test_ui: build the static paths before the browser's parallel requests
        if "marketing_automation_community" not in http.root.statics:
            raise AssertionError("The addon's static folder (tours) is not served.")

    def test_template_cards_fit_a_phone(self):
        """With no campaign, the kanban and the list show the template cards
        within the phone's width."""
        self.env["marketing.campaign"].search([]).action_archive()
        for view_type in ("kanban", "list"):
            with self.subTest(view_type=view_type):
                self.start_tour(
                    f"{ACTION}?view_type={view_type}",
                    "marketing_automation_phone_templates_tour",
                    login="user_marketing_automation",
                )

    def test_workflow_fits_a_phone(self):
        """Six levels of activities stack within the phone's width, the deepest
        still wide, with their figures and buttons on screen."""
        campaign = self._create_campaign()
        parent = self._create_activity(campaign, name="Level 0 with a rather long name")
        for depth in range(1, 6):
            parent = self._create_activity(
                campaign, "email", parent=parent, name=f"Level {depth} with a rather long name"
            )
        self.start_tour(
            f"{ACTION}/{campaign.id}",
            "marketing_automation_phone_workflow_tour",
            login="user_marketing_automation",
        )
