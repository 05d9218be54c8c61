from datetime import date, datetime
from unittest import SkipTest

from freezegun import freeze_time

from odoo.tests import tagged, users

from odoo.addons.mail.tests.common import mail_new_test_user

from .test_blueprints import USER_GROUP, BlueprintCase


@tagged("marketing_automation", "post_install", "-at_install")
class TestClosingReminderBlueprint(BlueprintCase):
    """The template *Before the expected closing*: a step relative to a date
    of the record (``crm.lead.date_deadline``), in office hours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "crm.lead" not in cls.env:
            raise SkipTest("CRM is not installed")
        cls.user_sales_marketing = mail_new_test_user(
            cls.env,
            login="user_sales_marketing",
            name="Sam Sales",
            email="sam.sales@example.com",
            tz="Europe/Brussels",
            groups=f"base.group_user,sales_team.group_sale_salesman_all_leads,{USER_GROUP}",
        )
        Lead = cls.env["crm.lead"]
        # Friday 2024-12-06: the reminder is due on Tuesday 2024-12-03
        cls.lead_friday, cls.lead_monday, cls.lead_no_date, cls.lead_won = Lead.create(
            [
                {
                    "name": f"Opportunity {index}",
                    "contact_name": f"Contact {index}",
                    "email_from": f"opportunity.{index}@example.com",
                    "type": "opportunity",
                    "date_deadline": deadline,
                }
                for index, deadline in enumerate(
                    (date(2024, 12, 6), date(2024, 12, 9), False, date(2024, 12, 6))
                )
            ]
        )
        cls.lead_won.action_set_won()

    @users("user_sales_marketing")
    def test_closing_reminder_available(self):
        info = self.env["marketing.campaign"].get_campaign_templates_info()["closing_reminder"]
        self.assertTrue(info["available"])
        self.assertEqual((info["model"], info["icon"]), ("crm.lead", "fa-calendar"))
        self.assertEqual(info["title"], "Before the expected closing")

    @users("user_marketing_plain")
    def test_closing_reminder_needs_crm_rights(self):
        info = self.env["marketing.campaign"].get_campaign_templates_info()["closing_reminder"]
        self.assertFalse(info["available"])
        self.assertIn("Lead", info["unavailable_reason"])

    @users("user_sales_marketing")
    def test_closing_reminder(self):
        """The email is due 3 days before the expected closing, moved to 9:00
        on the recipient's wall clock (the responsible's zone: Brussels, UTC+1)
        and to Monday when that day is a weekend; it follows a moved closing
        date; won opportunities and those without a date are not enrolled."""
        with freeze_time(datetime(2024, 11, 25, 10, 0)) as frozen, self.mock_mail_gateway():
            campaign = self._create_from_template("closing_reminder")
            self.assertEqual(campaign.model_name, "crm.lead")
            reminder = self._activity(campaign, "Reminder before closing")
            self.assertEqual(
                (
                    reminder.activity_type,
                    reminder.trigger_type,
                    reminder.date_field_id.name,
                    reminder.date_offset,
                    reminder.interval_number,
                    reminder.interval_type,
                ),
                ("email", "date", "date_deadline", "before", 3, "days"),
            )
            self.assertEqual(
                reminder.trigger_label, "3 Days before Expected Closing · Weekdays 9–17"
            )
            self.assertEqual(reminder.mass_mailing_id.subject, "Any questions before you decide?")

            self._start(campaign)
            enrolled = set(campaign.participant_ids.mapped("res_id"))
            self.assertIn(self.lead_friday.id, enrolled)
            self.assertIn(self.lead_monday.id, enrolled)
            self.assertNotIn(self.lead_no_date.id, enrolled)
            self.assertNotIn(self.lead_won.id, enrolled)
            friday, monday = self._traces(reminder, self.lead_friday + self.lead_monday)
            # Tuesday 2024-12-03 at 9:00 in Brussels
            self.assertEqual(friday.schedule_date, datetime(2024, 12, 3, 8, 0))
            # 3 days before Monday 2024-12-09 is a Friday: at 9:00 that day
            self.assertEqual(monday.schedule_date, datetime(2024, 12, 6, 8, 0))

            # the closing moves to Wednesday 2024-12-11: the reminder follows
            self.lead_monday.date_deadline = date(2024, 12, 11)
            campaign.sync_participants()
            self.assertEqual(monday.schedule_date, datetime(2024, 12, 9, 8, 0))

            frozen.move_to(datetime(2024, 12, 3, 8, 0))
            campaign.execute_activities()
            self._send_queued_mails()
            self.assertTraceStates(friday, "processed")
            self.assertTraceStates(monday, "scheduled")
            self._sent_email(self.lead_friday.email_from)
