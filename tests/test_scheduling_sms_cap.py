from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.marketing_trace import EMAIL_CAP_LOCK, SMS_CAP_LOCK
from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestSmsFrequencyCap(MarketingAutomationCommon):
    """The frequency cap of campaign SMS, per phone number across all the
    campaigns of the company: over it an SMS is postponed with the reason,
    never dropped; tests and SMS sent outside campaigns do not count."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailing_sms_followup = cls._create_marketing_mailing("Follow-up SMS", "sms")
        cls._act_as_marketing_user()

    def _set_sms_cap(self, cap, days):
        self.env.company.sudo().write({"marketing_sms_cap": cap, "marketing_sms_cap_days": days})

    def _two_sms_campaigns(self, second_domain=None):
        first = self._create_campaign()
        second = self._create_campaign(domain=second_domain, name="Second")
        first_activity = self._create_activity(first, "sms")
        second_activity = self._create_activity(
            second,
            "sms",
            mass_mailing_id=self._campaign_template(second, self.mailing_sms_followup).id,
        )
        return first, second, first_activity, second_activity

    def _held_locks(self, key):
        self.env.cr.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = "
            "pg_backend_pid() AND classid = %s AND objid = %s",
            (key, self.env.company.id),
        )
        return self.env.cr.fetchone()[0]

    def test_sms_cap_postpones_across_campaigns(self):
        """One campaign SMS per number and week: the second campaign's SMS
        wait a week from the first, with the reason, under the SMS lock of the
        company; its email is not held (the email cap is off); then they go."""
        self._set_sms_cap(1, 7)
        first, second, first_activity, second_activity = self._two_sms_campaigns()
        second_email = self._create_activity(
            second, mass_mailing_id=self._campaign_template(second, self.mailing_email).id
        )
        with (
            freeze_time(self.reference_now) as frozen,
            self.mockSMSGateway(),
            self.mock_mail_gateway(),
        ):
            self._run_campaign(first)
            self.assertTraceStates(self._traces(first_activity), "processed")
            frozen.tick(timedelta(days=2))
            self._run_campaign(second)
            traces = self._traces(second_activity)
            self.assertTraceStates(traces, "scheduled", "campaign SMS")
            self.assertIn("Postponed", traces[0].state_msg)
            self.assertEqual(
                set(traces.mapped("schedule_date")), {self.reference_now + timedelta(days=7)}
            )
            self.assertFalse(traces.mailing_trace_ids)
            self.assertTraceStates(self._traces(second_email), "processed")
            # the company's SMS lock was taken for the count, not the email one
            self.assertEqual(self._held_locks(SMS_CAP_LOCK), 1)
            self.assertEqual(self._held_locks(EMAIL_CAP_LOCK), 0)
            # a second run in the same week holds them again
            second.execute_activities()
            self.assertTraceStates(traces, "scheduled", "Postponed")
            frozen.move_to(self.reference_now + timedelta(days=7, minutes=1))
            second.execute_activities()
            self.assertTraceStates(traces, "processed")
            self.assertEqual(
                sorted(traces.mailing_trace_ids.mapped("sms_number")),
                sorted(self.contacts.mapped("phone_sanitized")),
            )

    def test_sms_cap_counts_the_normalized_number(self):
        """A number written another way is the same number: a contact whose
        phone is the national form of the first contact's number is held."""
        self._set_sms_cap(1, 7)
        twin = (
            self.env["res.partner"]
            .sudo()
            .create(
                {
                    "name": "Same phone, national form",
                    "phone": "0456 00 00 00",
                    "country_id": self.env.ref("base.be").id,
                }
            )
        )
        self.assertEqual(twin.phone_sanitized, self.contacts[0].phone_sanitized)
        first, second, _first_activity, second_activity = self._two_sms_campaigns(
            second_domain=[("id", "in", (twin + self.contacts[1]).ids)]
        )
        first.domain = repr([("id", "=", self.contacts[0].id)])
        with freeze_time(self.reference_now), self.mockSMSGateway():
            self._run_campaign(first)
            self._run_campaign(second)
            self.assertTraceStates(self._traces(second_activity, twin), "scheduled", "Postponed")
            self.assertTraceStates(self._traces(second_activity, self.contacts[1]), "processed")

    def test_sms_cap_ignores_tests_and_other_sms(self):
        """Test participants' SMS are neither counted nor held, and SMS sent
        outside campaigns (a mass SMS) are not counted."""
        self._set_sms_cap(1, 7)
        first, second, _first_activity, second_activity = self._two_sms_campaigns()
        newsletter = (
            self.env["mailing.mailing"]
            .sudo()
            .create(
                {
                    "subject": "SMS newsletter",
                    "mailing_type": "sms",
                    "mailing_model_id": self.partner_model.id,
                    "mailing_domain": repr([("id", "in", self.contacts.ids)]),
                    "body_plaintext": "Our news",
                }
            )
        )
        with freeze_time(self.reference_now), self.mockSMSGateway():
            newsletter.action_send_sms()
            self.assertEqual(len(newsletter.mailing_trace_ids), 3)
            first.action_start_campaign()
            self._launch_test(first, self.contacts[0]).trace_ids.action_execute()
            self._run_campaign(second)
            self.assertTraceStates(self._traces(second_activity), "processed")
            # now over the cap: a test still runs
            test_traces = self._launch_test(second, self.contacts[0]).trace_ids
            test_traces.action_execute()
            self.assertTraceStates(test_traces, "processed")

    def test_sms_cap_bounds_and_rights(self):
        company = self.env.company.sudo()
        for values in (
            {"marketing_sms_cap": -1},
            {"marketing_sms_cap": 100_000},
            {"marketing_sms_cap_days": 0},
            {"marketing_sms_cap_days": 400},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                company.write(values)
        # a marketing user can neither lift nor set the company's SMS cap
        for values in ({"marketing_sms_cap": 0}, {"marketing_sms_cap_days": 1}):
            with (
                self.subTest(values=values),
                self.assertRaises(AccessError),
                mute_logger("odoo.models"),
            ):
                self.env.company.write(values)
