from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestCampaignModel(MarketingAutomationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls._create_campaign()
        cls.email_activity = cls._create_activity(cls.campaign, "email")
        cls.sms_activity = cls._create_activity(cls.campaign, "sms")
        cls.action_activity = cls._create_activity(cls.campaign, "action")

    def test_new_campaign_is_its_creators(self):
        """Whoever creates a campaign is its responsible, in his company, and
        its mailings report under a UTM campaign of its name."""
        user = self.user_marketing_automation
        campaign = self.env["marketing.campaign"].with_user(user).create({"name": "Defaults"})
        self.assertEqual(campaign.user_id, user)
        self.assertEqual(campaign.company_id, user.company_id)
        self.assertEqual(campaign.utm_campaign_id.name, "Defaults")

    def test_campaign_domain_invalid(self):
        for domain in ("[('email', '=',", "[('no_such_field', '=', 1)]", "not a domain"):
            with self.subTest(domain=domain), self.assertRaises(ValidationError):
                self._create_campaign(name="Bad", domain=None).write({"domain": domain})

    def test_campaign_domain_valid_with_context(self):
        campaign = self._create_campaign(name="Dynamic")
        campaign.domain = (
            "[('create_uid', '=', uid), ('create_date', '<=', "
            "(context_today() + relativedelta(days=1)).strftime('%Y-%m-%d'))]"
        )
        # uid is the responsible, whose rights run the campaign
        self.assertIn(
            ("create_uid", "=", self.user_marketing_automation.id),
            campaign._get_applied_domain(),
        )

    def test_campaign_domain_must_fit_target(self):
        with self.assertRaises(ValidationError):
            self._create_campaign(
                name="Lead filter on contacts",
                model_id=self.env["ir.model"]._get("mailing.contact").id,
                domain=[("is_company", "=", True)],
            )

    def test_campaign_target_locked_with_activities(self):
        with self.assertRaises(ValidationError):
            self.campaign.model_id = self.env["ir.model"]._get("mailing.contact")
        empty = self._create_campaign(name="Empty")
        empty.model_id = self.env["ir.model"]._get("mailing.contact")
        self.assertEqual(empty.model_name, "mailing.contact")

    def test_campaign_unique_field_of_target(self):
        with self.assertRaises(ValidationError):
            self.campaign.unique_field_id = self.env["ir.model.fields"]._get(
                "mailing.contact", "email"
            )
        self.campaign.unique_field_id = self.env["ir.model.fields"]._get("res.partner", "email")

    def test_activity_trigger_parent_compatibility(self):
        Activity = self.env["marketing.activity"]
        valid = {
            "activity": (self.email_activity, self.sms_activity, self.action_activity),
            "mail_open": (self.email_activity,),
            "mail_not_open": (self.email_activity,),
            "mail_reply": (self.email_activity,),
            "mail_not_reply": (self.email_activity,),
            "mail_click": (self.email_activity,),
            "mail_not_click": (self.email_activity,),
            "mail_bounce": (self.email_activity,),
            "sms_click": (self.sms_activity,),
            "sms_not_click": (self.sms_activity,),
            "sms_bounce": (self.sms_activity,),
        }
        parents = self.email_activity | self.sms_activity | self.action_activity
        for trigger, good_parents in valid.items():
            for parent in parents:
                with self.subTest(trigger=trigger, parent=parent.activity_type):
                    if parent in good_parents:
                        child = self._create_activity(
                            self.campaign, "action", parent=parent, trigger_type=trigger
                        )
                        self.assertEqual(child.parent_id, parent)
                    else:
                        with self.assertRaises(ValidationError):
                            self._create_activity(
                                self.campaign, "action", parent=parent, trigger_type=trigger
                            )
            with self.subTest(trigger=trigger, parent=None), self.assertRaises(ValidationError):
                self._create_activity(self.campaign, "action", trigger_type=trigger)
        with self.assertRaises(ValidationError):
            Activity.create(
                {
                    "name": "Root with parent",
                    "campaign_id": self.campaign.id,
                    "activity_type": "action",
                    "server_action_id": self.server_action.id,
                    "trigger_type": "begin",
                    "parent_id": self.email_activity.id,
                }
            )

    def test_activity_parent_same_campaign_and_no_cycle(self):
        other = self._create_campaign()
        with self.assertRaises(ValidationError):
            self._create_activity(other, "action", parent=self.email_activity)
        child = self._create_activity(self.campaign, "email", parent=self.email_activity)
        with self.assertRaises(ValidationError):
            self.email_activity.write({"trigger_type": "activity", "parent_id": child.id})

    def test_activity_intervals_not_negative(self):
        for field in ("interval_number", "validity_duration_number"):
            with self.subTest(field=field), self.assertRaises(ValidationError):
                self.email_activity.write({field: -1})
        # no delay and no expiry are allowed
        self.email_activity.write({"interval_number": 0, "validity_duration_number": 0})

    def test_activity_domain_invalid(self):
        with self.assertRaises(ValidationError):
            self.email_activity.domain = "[('no_such_field', '=', 1)]"
        with self.assertRaises(ValidationError):
            self.email_activity.domain = "[("
        self.email_activity.domain = "[('email', '!=', False)]"

    def test_activity_mailing_type_and_model(self):
        with self.assertRaises(ValidationError):
            self.email_activity.mass_mailing_id = self.mailing_sms
        with self.assertRaises(ValidationError):
            self.sms_activity.mass_mailing_id = self.mailing_email
        contact_mailing = self._create_marketing_mailing("Contacts", "mail", "mailing.contact")
        with self.assertRaises(ValidationError):
            self.email_activity.mass_mailing_id = contact_mailing
        with self.assertRaises(ValidationError):
            self._create_activity(self.campaign, "email", mass_mailing_id=False)

    def test_activity_server_action_model(self):
        action = self.env["ir.actions.server"].create(
            {
                "name": "On mailing contacts",
                "model_id": self.env["ir.model"]._get("mailing.contact").id,
                "state": "code",
                "code": "pass",
            }
        )
        with self.assertRaises(ValidationError):
            self.action_activity.server_action_id = action
        with self.assertRaises(ValidationError):
            self._create_activity(self.campaign, "action", server_action_id=False)

    def test_activity_applied_domain(self):
        self.campaign.domain = "[('email', '!=', False)]"
        self.email_activity.domain = "[('phone', '!=', False)]"
        child = self._create_activity(
            self.campaign,
            "action",
            parent=self.email_activity,
            trigger_type="mail_reply",
            interval_number=2,
            domain="[('name', 'ilike', 'Contact')]",
        )
        self.assertEqual(
            child._get_applied_domain(),
            [
                "&",
                "&",
                ("email", "!=", False),
                ("name", "ilike", "Contact"),
                ("phone", "!=", False),
            ],
        )

    def test_activity_from_the_form_runs_after_an_hour(self):
        """An activity saved from the form as it opens is a root step that
        every participant gets one hour after enrolment."""
        form = Form(
            self.env["marketing.activity"].with_context(default_campaign_id=self.campaign.id)
        )
        form.name = "From the form"
        form.activity_type = "sms"
        form.mass_mailing_id = self.mailing_sms
        activity = form.save()
        with freeze_time(self.reference_now):
            self._start(self.campaign)
        participants = self.campaign.participant_ids
        self.assertTrue(participants)
        self.assertEqual(activity.trace_ids.participant_id, participants)
        self.assertEqual(
            set(activity.trace_ids.mapped("schedule_date")),
            {self.reference_now + timedelta(hours=1)},
        )

    def test_favorite_filter(self):
        self.campaign.domain = "[('email', 'ilike', 'example.com')]"
        action = self.campaign.action_save_as_favorite_filter()
        favorite = (
            self.env["marketing.favorite.filter"].with_context(**action["context"]).create({})
        )
        self.assertEqual(favorite.name, self.campaign.name)
        self.assertEqual(favorite.domain, self.campaign.domain)
        self.assertEqual(favorite.model_name, "res.partner")
        with self.assertRaises(ValidationError):
            favorite.domain = "[('no_such_field', '=', 1)]"

    def test_marketing_mailing_not_sent_from_email_marketing(self):
        with self.assertRaises(UserError) as error:
            self.mailing_email.action_put_in_queue()
        self.assertIn("campaign", str(error.exception))

    def test_campaign_copy_duplicates_workflow_tree(self):
        child = self._create_activity(
            self.campaign, "action", parent=self.email_activity, trigger_type="mail_open"
        )
        grandchild = self._create_activity(self.campaign, "sms", parent=child)
        copy = self.campaign.copy()
        self.assertEqual(copy.name, "Test Campaign (copy)")
        # a UTM campaign of its own, named after the copy
        self.assertEqual(copy.utm_campaign_id.name, "Test Campaign (copy)")
        self.assertEqual(len(copy.marketing_activity_ids), 5)
        new_child = copy.marketing_activity_ids.filtered(lambda a: a.trigger_type == "mail_open")
        self.assertEqual(new_child.parent_id.campaign_id, copy)
        # its own copy of the template, under the same title
        new_mailing = new_child.parent_id.mass_mailing_id
        self.assertNotEqual(new_mailing, self.email_activity.mass_mailing_id)
        self.assertEqual(new_mailing.subject, self.email_activity.mass_mailing_id.subject)
        self.assertEqual(new_child.child_ids.activity_type, grandchild.activity_type)
        self.assertEqual(new_child.child_ids.campaign_id, copy)
        self.assertFalse(copy.participant_ids)
