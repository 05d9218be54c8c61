from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.marketing_trace import EMAIL_CAP_LOCK
from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestTiming(MarketingAutomationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_marketing_automation.tz = "Europe/Brussels"
        cls.contacts[0].tz = "Pacific/Kiritimati"
        cls.contacts[1].tz = "Pacific/Pago_Pago"
        cls.contacts[2].tz = False
        # contacts have no date of their own in Odoo 18: an event date, as a custom field
        cls.date_field = cls.env["ir.model.fields"].create(
            {
                "name": "x_event_date",
                "field_description": "Event Date",
                "model_id": cls.partner_model.id,
                "ttype": "date",
            }
        )
        cls._act_as_marketing_user()

    def _schedule_dates(self, activity):
        return [trace.schedule_date for trace in self._traces(activity, self.contacts)]

    # ------------------------------------------------------------
    # send window
    # ------------------------------------------------------------

    def test_window_at_scheduling_and_execution(self):
        """Monday 10:00 UTC: the contacts of Kiritimati and Pago Pago are out of
        their weekday 9-17 window, the one without a time zone is in the
        responsible's (Brussels, 11:00): only that one is sent; the others are
        dated at their opening and sent then."""
        campaign = self._create_campaign()
        activity = self._create_activity(
            campaign, send_hour_from=9, send_hour_to=17, send_weekdays_only=True
        )
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            self._run_campaign(campaign)
            traces = self._traces(activity, self.contacts)
            self.assertEqual(
                self._schedule_dates(activity),
                [datetime(2024, 11, 25, 19, 0), datetime(2024, 11, 25, 20, 0), self.reference_now],
            )
            self.assertEqual(traces.mapped("state"), ["scheduled", "scheduled", "processed"])
            frozen.move_to(datetime(2024, 11, 25, 19, 0))
            campaign.execute_activities()
            self.assertEqual(traces.mapped("state"), ["processed", "scheduled", "processed"])

    def test_split_has_no_window(self):
        """An A/B split sends nothing: a window left on it (it was an email
        before) neither holds it nor shows; its branch keeps its own."""
        campaign = self._create_campaign()
        split = self._create_activity(
            campaign, "split", name="Split", mass_mailing_id=False, send_hour_from=2, send_hour_to=3
        )
        branch = self._create_activity(
            campaign, parent=split, split_weight=100, send_hour_from=2, send_hour_to=3
        )
        self.assertEqual(split.send_window_label, "Any time")
        self.assertNotIn("·", split.trigger_label)
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign)
            self.assertTraceStates(self._traces(split), "processed")
            self.assertTraceStates(self._traces(branch), "scheduled")
            self.assertTrue(all(d > self.reference_now for d in self._schedule_dates(branch)))

    def test_window_at_execution(self):
        """A trace due before its activity got a window is re-dated when its
        batch is about to run, and left scheduled."""
        campaign = self._create_campaign()
        activity = self._create_activity(campaign, interval_number=1)
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            self._start(campaign)
            activity.write({"send_hour_from": 14, "send_hour_to": 16})
            frozen.tick(timedelta(hours=2))
            campaign.execute_activities()
            traces = self._traces(activity, self.contacts)
            self.assertEqual(traces.mapped("state"), ["scheduled"] * 3)
            # Kiritimati: 12:00 UTC is 02:00 Tuesday, opens 14:00 local
            # Pago Pago: 01:00 local, opens 14:00 local (01:00 UTC Tuesday)
            # Brussels: 13:00 local, opens 14:00 local
            self.assertEqual(
                self._schedule_dates(activity),
                [
                    datetime(2024, 11, 26, 0, 0),
                    datetime(2024, 11, 26, 1, 0),
                    datetime(2024, 11, 25, 13, 0),
                ],
            )
            self.assertFalse(traces.mailing_trace_ids)

    def test_window_with_empty_cache(self):
        """The responsible's time zone read from the database (not in the
        cache) does not replace the traces' rows: the batch is re-dated, not
        left outside its window (the benchmark, calling this with a cold
        cache, saw its first batch of ten left on a Saturday)."""
        campaign = self._create_campaign()
        activity = self._create_activity(campaign, interval_number=1)
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            self._start(campaign)
            activity.write({"send_hour_from": 14, "send_hour_to": 16})
            frozen.tick(timedelta(hours=2))
            traces = self._traces(activity, self.contacts)
            self.env.invalidate_all()
            self.assertEqual(activity._postpone_outside_window(traces), traces)
            self.assertEqual(
                self._schedule_dates(activity),
                [
                    datetime(2024, 11, 26, 0, 0),
                    datetime(2024, 11, 26, 1, 0),
                    datetime(2024, 11, 25, 13, 0),
                ],
            )

    def test_window_labels(self):
        campaign = self._create_campaign()
        activity = self._create_activity(
            campaign, send_hour_from=9, send_hour_to=17.5, send_weekdays_only=True
        )
        self.assertEqual(activity.send_window_label, "Weekdays, 9:00–17:30, recipient's local time")
        self.assertEqual(activity.trigger_label, "At once · Weekdays 9–17:30")
        activity.send_hour_to = 17
        self.assertEqual(activity.trigger_label, "At once · Weekdays 9–17")
        activity.write({"send_hour_from": 0, "send_hour_to": 0, "send_weekdays_only": False})
        self.assertEqual(activity.send_window_label, "Any time")

    def test_window_bounds(self):
        campaign = self._create_campaign()
        activity = self._create_activity(campaign)
        for values in (
            {"send_hour_from": -1},
            {"send_hour_to": 24.5},
            {"send_hour_from": 25, "send_hour_to": 3},
            {"send_hour_from": 9, "send_hour_to": 9},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                activity.write(values)
                activity.flush_recordset()

    # ------------------------------------------------------------
    # frequency cap
    # ------------------------------------------------------------

    def _set_cap(self, cap, days):
        self.env.company.sudo().write(
            {"marketing_email_cap": cap, "marketing_email_cap_days": days}
        )

    def test_cap_postpones_across_campaigns(self):
        """One campaign email per address and week: the second campaign's
        emails wait a week from the first, with the reason; then they go."""
        self._set_cap(1, 7)
        first, second = self._create_campaign(), self._create_campaign(name="Second")
        first_activity = self._create_activity(first)
        second_activity = self._create_activity(
            second, mass_mailing_id=self._campaign_template(second, self.mailing_email_followup).id
        )
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            self._run_campaign(first)
            self.assertTraceStates(self._traces(first_activity), "processed")
            frozen.tick(timedelta(days=2))
            self._run_campaign(second)
            traces = self._traces(second_activity)
            self.assertTraceStates(traces, "scheduled", "Postponed")
            self.assertEqual(
                set(traces.mapped("schedule_date")), {self.reference_now + timedelta(days=7)}
            )
            self.assertFalse(traces.mailing_trace_ids)
            # the company's lock was taken for the count (serializes the workers)
            self.env.cr.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = "
                "pg_backend_pid() AND classid = %s AND objid = %s",
                (EMAIL_CAP_LOCK, self.env.company.id),
            )
            self.assertEqual(self.env.cr.fetchone()[0], 1)
            # a second batch in the same week is held as well
            second.execute_activities()
            self.assertTraceStates(traces, "scheduled", "Postponed")
            frozen.move_to(self.reference_now + timedelta(days=7, minutes=1))
            second.execute_activities()
            self.assertTraceStates(traces, "processed")
            self.assertEqual(len(traces.mailing_trace_ids), 3)

    def test_cap_ignores_tests(self):
        """A test participant's email neither counts nor is held."""
        self._set_cap(1, 7)
        first, second = self._create_campaign(), self._create_campaign(name="Second")
        self._create_activity(first)
        second_activity = self._create_activity(
            second, mass_mailing_id=self._campaign_template(second, self.mailing_email_followup).id
        )
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            first.action_start_campaign()
            self._launch_test(first, self.contacts[0]).trace_ids.action_execute()
            self._run_campaign(second)
            self.assertTraceStates(self._traces(second_activity), "processed")
            # now over the cap: a test still runs
            test_traces = self._launch_test(second, self.contacts[0]).trace_ids
            test_traces.action_execute()
            self.assertTraceStates(test_traces, "processed")

    def test_cap_bounds_and_rights(self):
        company = self.env.company.sudo()
        for values in (
            {"marketing_email_cap": -1},
            {"marketing_email_cap_days": 0},
            {"marketing_email_cap_days": -3},
            {"marketing_email_cap": 100_000},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                company.write(values)
        # a marketing user cannot lift the company's cap
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self.env.company.write({"marketing_email_cap": 0})

    # ------------------------------------------------------------
    # relative to a date of the record
    # ------------------------------------------------------------

    def _date_campaign(self, offset="before", number=3, unit="days", **values):
        campaign = self._create_campaign()
        activity = self._create_activity(
            campaign,
            trigger_type="date",
            date_field_id=self.date_field.id,
            date_offset=offset,
            interval_number=number,
            interval_type=unit,
            **values,
        )
        return campaign, activity

    def test_date_before_after_and_label(self):
        self.contacts.sudo().write({"x_event_date": date(2024, 12, 10)})
        self.contacts[2].sudo().tz = "America/New_York"
        before_campaign, before = self._date_campaign("before", 3)
        after_campaign, after = self._date_campaign("after", 1)
        self.assertEqual(before.trigger_label, "3 Days before Event Date")
        self.assertEqual(after.trigger_label, "1 Day after Event Date")
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(before_campaign)
            self._run_campaign(after_campaign)
        # midnight of the date on each recipient's wall clock, minus 3 / plus 1 days
        self.assertEqual(
            self._schedule_dates(before),
            [
                datetime(2024, 12, 6, 10, 0),
                datetime(2024, 12, 7, 11, 0),
                datetime(2024, 12, 7, 5, 0),
            ],
        )
        self.assertEqual(
            self._schedule_dates(after),
            [
                datetime(2024, 12, 10, 10, 0),
                datetime(2024, 12, 11, 11, 0),
                datetime(2024, 12, 11, 5, 0),
            ],
        )
        self.assertTraceStates(self._traces(before), "scheduled")

    def test_date_moved_past_and_missing(self):
        """A changed date re-dates the waiting trace at the next sync; a moment
        already past runs at once; a record without the date is rejected."""
        self.contacts.sudo().write({"tz": "Europe/Brussels", "x_event_date": date(2024, 12, 10)})
        campaign, activity = self._date_campaign("before", 3)
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._start(campaign)
            traces = self._traces(activity, self.contacts)
            self.assertEqual(self._schedule_dates(activity)[0], datetime(2024, 12, 6, 23, 0))
            self.contacts[0].sudo().x_event_date = date(2024, 12, 20)
            self.contacts[1].sudo().x_event_date = date(2024, 11, 26)
            self.contacts[2].sudo().x_event_date = False
            campaign.sync_participants()
            self.assertEqual(
                self._schedule_dates(activity)[:2],
                [datetime(2024, 12, 16, 23, 0), datetime(2024, 11, 22, 23, 0)],
            )
            self.assertTraceStates(traces[2], "rejected", "has no Event Date")
            campaign.execute_activities()
            self.assertEqual(traces.mapped("state"), ["scheduled", "processed", "rejected"])

    def test_date_redated_with_empty_cache(self):
        """A changed date re-dates the waiting traces also when the
        responsible's time zone is read from the database then."""
        self.contacts.sudo().write({"x_event_date": date(2024, 12, 10)})
        campaign, activity = self._date_campaign("before", 3)
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._start(campaign)
            self.contacts.sudo().write({"x_event_date": date(2024, 12, 20)})
            self.env.flush_all()
            self.env.invalidate_all()
            self.env["marketing.trace"]._redate_record_dates(campaign)
            # contact 3 has no time zone: the responsible's (Brussels)
            self.assertEqual(self._schedule_dates(activity)[2], datetime(2024, 12, 16, 23, 0))

    def test_date_missing_at_enrolment_and_expired(self):
        self.contacts.sudo().write({"tz": "Europe/Brussels", "x_event_date": date(2024, 11, 20)})
        self.contacts[2].sudo().x_event_date = False
        campaign, activity = self._date_campaign(
            "after",
            0,
            validity_duration=True,
            validity_duration_number=1,
            validity_duration_type="days",
        )
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign)
        traces = self._traces(activity, self.contacts)
        self.assertEqual(traces.mapped("state"), ["canceled", "canceled", "rejected"])
        self.assertIn("Expired", traces[0].state_msg)
        self.assertIn("has no Event Date", traces[2].state_msg)
        self.assertEqual(activity.trigger_label, "On Event Date")

    def test_date_trigger_constraints(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign)
        name_field = self.env["ir.model.fields"]._get("res.partner", "name")
        other_model_date = self.env["ir.model.fields"]._get("mailing.mailing", "schedule_date")
        for values in (
            {"date_field_id": False},
            {"date_field_id": name_field.id},
            {"date_field_id": other_model_date.id},
            {"date_field_id": self.date_field.id, "parent_id": root.id},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self._create_activity(campaign, "action", trigger_type="date", **values)

    def test_date_field_unreadable(self):
        """A user cannot count from a date he may not read (a field restricted
        to Settings administrators)."""
        self.patch(self.env["res.partner"]._fields["x_event_date"], "groups", "base.group_system")
        campaign = self._create_campaign()
        with self.assertRaises(ValidationError):
            self._create_activity(
                campaign, "action", trigger_type="date", date_field_id=self.date_field.id
            )
