from odoo import http
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user


@tagged("marketing_automation", "post_install", "-at_install")
class TestBlueprintsUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # build the static paths before the browser's parallel requests (see test_ui)
        if "marketing_automation_community" not in http.root.statics:
            raise AssertionError("The addon's static folder (tours) is not served.")
        cls.user = mail_new_test_user(
            cls.env,
            login="tour_template_user",
            groups="base.group_user,marketing_automation_community.group_marketing_automation_user",
        )

    def test_create_campaign_from_template_card(self):
        """On an empty Campaigns view, a click on a template card creates the
        campaign and opens its form."""
        Campaign = self.env["marketing.campaign"]
        Campaign.search([]).action_archive()
        self.start_tour("/odoo", "marketing_automation_templates_tour", login=self.user.login)

        campaign = Campaign.search([])
        self.assertEqual(campaign.name, "Double Opt-in")
        self.assertEqual(campaign.state, "draft")
        self.assertEqual(campaign.user_id, self.user)
        self.assertEqual(
            campaign.marketing_activity_ids.mapped("name"), ["Confirmation", "Add to list"]
        )
