from datetime import datetime, timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestEnrolment(MarketingAutomationCommon):
    """Participants synchronisation: who is enrolled, once, with which root traces."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.email_field = cls.env["ir.model.fields"]._get("res.partner", "email")
        cls.domain = [("name", "=like", "Enrol %")]
        cls.records = cls.env["res.partner"].create(
            [
                {"name": f"Enrol {index}", "email": f"enrol.{index}@example.com"}
                for index in range(4)
            ]
        )

    def _new_campaign(self, domain=None, **values):
        campaign = self._create_campaign(
            domain=domain or self.domain, **{"unique_field_id": self.email_field.id, **values}
        )
        root = self._create_activity(
            campaign, "action", name="Root", interval_number=2, interval_type="days"
        )
        return campaign, root

    def _real(self, campaign):
        return campaign.participant_ids.filtered(lambda p: not p.is_test)

    def test_enrol_matching_records_with_root_traces(self):
        campaign = self._create_campaign(domain=self.domain, unique_field_id=self.email_field.id)
        delays = {"hours": 3, "days": 2, "weeks": 1, "months": 1}
        roots = self.env["marketing.activity"]
        for interval_type, number in delays.items():
            roots += self._create_activity(
                campaign,
                "action",
                name=f"Root {interval_type}",
                interval_number=number,
                interval_type=interval_type,
            )
        child = self._create_activity(campaign, "action", parent=roots[0], name="Child")
        other = self.env["res.partner"].create({"name": "Not a target", "email": "x@example.com"})
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            self.assertFalse(campaign.last_sync_date)
            self.assertEqual(campaign.running_participant_count, 0)
            campaign.sync_participants()

        self.assertEqual(campaign.last_sync_date, self.reference_now)
        participants = self._real(campaign)
        self.assertEqual(sorted(participants.mapped("res_id")), sorted(self.records.ids))
        self.assertNotIn(other.id, participants.mapped("res_id"))
        self.assertEqual(set(participants.mapped("state")), {"running"})
        self.assertEqual(set(participants.mapped("is_test")), {False})
        self.assertEqual(set(participants.mapped("start_date")), {self.reference_now})
        self.assertEqual(campaign.running_participant_count, len(self.records))
        self.assertEqual(campaign.total_participant_count, len(self.records))
        self.assertEqual(campaign.completed_participant_count, 0)
        self.assertEqual(campaign.test_participant_count, 0)
        expected_dates = {
            "Root hours": datetime(2024, 11, 25, 13, 0),
            "Root days": datetime(2024, 11, 27, 10, 0),
            "Root weeks": datetime(2024, 12, 2, 10, 0),
            "Root months": datetime(2024, 12, 25, 10, 0),
        }
        for participant in participants:
            record = self.env["res.partner"].browse(participant.res_id)
            self.assertEqual(participant.unique_value, record.email)
            traces = participant.trace_ids
            self.assertEqual(len(traces), len(roots), "one trace per root activity")
            self.assertEqual(traces.activity_id, roots)
            self.assertNotIn(child, traces.activity_id)
            for trace in traces:
                self.assertEqual(trace.state, "scheduled")
                self.assertFalse(trace.parent_id)
                self.assertFalse(trace.is_test)
                self.assertEqual(trace.res_id, participant.res_id)
                self.assertEqual(trace.schedule_date, expected_dates[trace.activity_id.name])

    def test_enrol_calendar_months(self):
        cases = [
            (datetime(2024, 1, 31, 8, 30), 1, datetime(2024, 2, 29, 8, 30)),
            (datetime(2023, 1, 31, 8, 30), 1, datetime(2023, 2, 28, 8, 30)),
            (datetime(2024, 3, 31, 8, 30), 1, datetime(2024, 4, 30, 8, 30)),
            (datetime(2023, 12, 31, 8, 30), 2, datetime(2024, 2, 29, 8, 30)),
            (datetime(2024, 1, 15, 8, 30), 12, datetime(2025, 1, 15, 8, 30)),
        ]
        for start, months, expected in cases:
            with self.subTest(start=start, months=months):
                campaign = self._create_campaign(domain=self.domain)
                root = self._create_activity(
                    campaign, "action", interval_number=months, interval_type="months"
                )
                with freeze_time(start):
                    campaign.action_start_campaign()
                    campaign.sync_participants()
                traces = self._traces(root)
                self.assertEqual(len(traces), len(self.records))
                self.assertEqual(set(traces.mapped("schedule_date")), {expected})

    def test_enrol_root_traces_once(self):
        """Enrolment, a test and Update choose the root traces to create in
        one place, which skips those a participant already has: asking again
        creates nothing."""
        campaign = self._create_campaign(domain=self.domain)
        root = self._create_activity(campaign, "action", interval_number=1)
        with freeze_time(self.reference_now):
            self._start(campaign)
            participants = campaign.participant_ids
            self.assertEqual(len(participants), len(self.records))
            self.assertEqual(self._traces(root).participant_id, participants)
            self.assertFalse(participants._create_root_traces(self.reference_now))
            campaign.action_update_participants()
        self.assertEqual(len(self._traces(root)), len(self.records))

    def test_enrol_unicity_case_and_spaces(self):
        Partner = self.env["res.partner"]
        duplicates = Partner.create(
            [
                {"name": "Enrol dup 1", "email": "Dup@Example.com"},
                {"name": "Enrol dup 2", "email": "  dup@example.com "},
                {"name": "Enrol dup 3", "email": "dup@EXAMPLE.COM"},
            ]
        )
        # the oldest record is the one enrolled, whatever the creation order of emails
        other_dups = Partner.create(
            [
                {"name": "Enrol other 2", "email": "other@example.com"},
                {"name": "Enrol other 1", "email": "OTHER@example.com"},
            ]
        )
        campaign, _root = self._new_campaign()
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
        participants = self._real(campaign)
        self.assertEqual(len(participants), len(self.records) + 2)
        dup_participant = participants.filtered(lambda p: p.unique_value == "dup@example.com")
        self.assertEqual(dup_participant.res_id, min(duplicates.ids))
        other_participant = participants.filtered(lambda p: p.unique_value == "other@example.com")
        self.assertEqual(other_participant.res_id, min(other_dups.ids))
        self.assertEqual(campaign.running_participant_count, len(self.records) + 2)

        # a later record with the same value is not enrolled either
        Partner.create({"name": "Enrol dup late", "email": "DUP@example.com\t"})
        with freeze_time(self.reference_now + timedelta(hours=1)):
            campaign.sync_participants()
        self.assertEqual(len(self._real(campaign)), len(self.records) + 2)

    def test_enrol_unicity_empty_value(self):
        no_email = self.env["res.partner"].create(
            [
                {"name": "Enrol no email 1", "email": False},
                {"name": "Enrol no email 2", "email": False},
                {"name": "Enrol blank email", "email": "   "},
            ]
        )
        campaign, root = self._new_campaign()
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
        participants = self._real(campaign)
        self.assertEqual(len(participants), len(self.records) + 3)
        for record in no_email:
            participant = self._participant(campaign, record)
            self.assertEqual(len(participant), 1)
            self.assertFalse(participant.unique_value)
            self.assertEqual(len(participant.trace_ids), 1)
        with freeze_time(self.reference_now + timedelta(hours=1)):
            campaign.sync_participants()
        self.assertEqual(len(self._real(campaign)), len(self.records) + 3)
        self.assertEqual(len(self._traces(root)), len(self.records) + 3)

    def test_enrol_unicity_many2one_value_and_empty_value(self):
        """An empty value groups the record alone, even when its id is also the
        value of another record (a many2one unicity field)."""
        company = self.env["res.partner"].create({"name": "Enrol company", "is_company": True})
        employees = self.env["res.partner"].create(
            [
                {"name": "Enrol employee 1", "parent_id": company.id},
                {"name": "Enrol employee 2", "parent_id": company.id},
            ]
        )
        parent_field = self.env["ir.model.fields"]._get("res.partner", "parent_id")
        campaign, _root = self._new_campaign(
            domain=[("id", "in", (company + employees).ids)],
            unique_field_id=parent_field.id,
        )
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
        participants = self._real(campaign)
        self.assertEqual(sorted(participants.mapped("res_id")), [company.id, employees[0].id])
        self.assertFalse(self._participant(campaign, company).unique_value)
        self.assertEqual(self._participant(campaign, employees[0]).unique_value, str(company.id))

    def test_enrol_without_unicity_field(self):
        twin = self.env["res.partner"].create(
            {"name": "Enrol twin", "email": self.records[0].email}
        )
        campaign, _root = self._new_campaign(unique_field_id=False)
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
        self.assertEqual(
            sorted(self._real(campaign).mapped("res_id")), sorted((self.records + twin).ids)
        )

    def test_enrol_once(self):
        campaign, root = self._new_campaign()
        with freeze_time(self.reference_now) as frozen:
            campaign.action_start_campaign()
            campaign.sync_participants()
            participants = self._real(campaign)
            traces = self._traces(root)
            self.assertEqual(len(participants), len(self.records))
            # completed participants and changed unicity values do not re-enrol
            participants[0].action_set_completed()
            self.records.filtered(
                lambda r: r.id == participants[1].res_id
            ).email = "changed@example.com"
            for _index in range(2):
                frozen.tick(timedelta(days=1))
                campaign.sync_participants()
                self.assertEqual(self._real(campaign), participants)
                self.assertEqual(self._traces(root), traces)
        self.assertEqual(campaign.running_participant_count, len(self.records) - 1)
        self.assertEqual(campaign.completed_participant_count, 1)
        self.assertEqual(campaign.total_participant_count, len(self.records))
        self.assertEqual(campaign.last_sync_date, self.reference_now + timedelta(days=2))

    def test_enrol_new_record_at_next_sync(self):
        campaign, root = self._new_campaign()
        child = self._create_activity(campaign, "action", parent=root, name="Child")
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
        old_traces = self._traces(root)
        old_dates = old_traces.mapped("schedule_date")
        self.assertEqual(campaign.running_participant_count, len(self.records))

        later = self.reference_now + timedelta(days=5)
        with freeze_time(later):
            newcomer = self.env["res.partner"].create(
                {"name": "Enrol newcomer", "email": "newcomer@example.com"}
            )
            campaign.sync_participants()
        self.assertEqual(campaign.running_participant_count, len(self.records) + 1)
        participant = self._participant(campaign, newcomer)
        self.assertEqual(participant.state, "running")
        self.assertEqual(participant.start_date, later)
        self.assertEqual(participant.trace_ids.activity_id, root)
        self.assertNotIn(child, participant.trace_ids.activity_id)
        self.assertEqual(participant.trace_ids.schedule_date, later + timedelta(days=2))
        self.assertEqual(old_traces.mapped("schedule_date"), old_dates)
        self.assertEqual(campaign.last_sync_date, later)

    def test_enrol_record_stops_matching_is_kept(self):
        campaign, root = self._new_campaign()
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
        leaving = self.records[0]
        leaving.name = "Left the target"
        with freeze_time(self.reference_now + timedelta(hours=1)):
            campaign.sync_participants()
        participant = self._participant(campaign, leaving)
        self.assertEqual(participant.state, "running")
        self.assertEqual(participant.trace_ids.state, "scheduled")
        self.assertEqual(campaign.running_participant_count, len(self.records))
        self.assertEqual(campaign.total_participant_count, len(self.records))
        self.assertEqual(len(self._traces(root)), len(self.records))

    def test_enrol_include_archived(self):
        archived = self.env["res.partner"].create(
            {"name": "Enrol archived", "email": "archived@example.com", "active": False}
        )
        campaign, _root = self._new_campaign()
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
        self.assertFalse(self._participant(campaign, archived))
        self.assertEqual(len(self._real(campaign)), len(self.records))

        campaign.include_archived = True
        with freeze_time(self.reference_now + timedelta(hours=1)):
            campaign.sync_participants()
        participant = self._participant(campaign, archived)
        self.assertEqual(len(participant), 1)
        self.assertEqual(participant.state, "running")
        self.assertEqual(len(participant.trace_ids), 1)
        self.assertEqual(len(self._real(campaign)), len(self.records) + 1)

        # archived from the start, with the option on
        other, _root = self._new_campaign(include_archived=True)
        with freeze_time(self.reference_now):
            other.action_start_campaign()
            other.sync_participants()
        self.assertEqual(
            sorted(self._real(other).mapped("res_id")), sorted((self.records + archived).ids)
        )

    def test_enrol_deleted_record_unlinks_participant(self):
        campaign, root = self._new_campaign()
        now_root = self._create_activity(campaign, "action", name="At once", interval_number=0)
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
            campaign.execute_activities()
        gone = self.records[0]
        participant = self._participant(campaign, gone)
        processed = participant.trace_ids.filtered(lambda t: t.activity_id == now_root)
        scheduled = participant.trace_ids.filtered(lambda t: t.activity_id == root)
        self.assertEqual(processed.state, "processed")
        self.assertEqual(scheduled.state, "scheduled")
        gone.unlink()

        later = self.reference_now + timedelta(hours=1)
        with freeze_time(later):
            campaign.sync_participants()
        self.assertEqual(participant.state, "unlinked")
        self.assertEqual(scheduled.state, "canceled")
        self.assertEqual(scheduled.state_msg, "Canceled: the record was deleted.")
        self.assertEqual(processed.state, "processed")
        self.assertFalse(processed.state_msg)
        others = self._real(campaign) - participant
        self.assertEqual(set(others.mapped("state")), {"running"})
        self.assertEqual(
            set(others.trace_ids.filtered(lambda t: t.activity_id == root).mapped("state")),
            {"scheduled"},
        )
        self.assertEqual(campaign.running_participant_count, len(self.records) - 1)
        self.assertEqual(campaign.total_participant_count, len(self.records))
        # the next synchronisations leave it alone
        with freeze_time(later + timedelta(hours=1)):
            campaign.sync_participants()
        self.assertEqual(participant.state, "unlinked")
        self.assertEqual(len(self._real(campaign)), len(self.records))

    def test_enrol_nothing_without_activities(self):
        campaign = self._create_campaign(domain=self.domain)
        with freeze_time(self.reference_now):
            campaign.sync_participants()
        self.assertFalse(campaign.participant_ids)
        self.assertFalse(
            self.env["marketing.participant"].search([("campaign_id", "=", campaign.id)])
        )
        self.assertEqual(campaign.total_participant_count, 0)

    def test_enrol_test_participants(self):
        campaign, root = self._new_campaign()
        tested = self.records[0]
        wizard = self.env["marketing.campaign.test"].create(
            {"campaign_id": campaign.id, "res_id": tested.id}
        )
        with freeze_time(self.reference_now):
            test_participant = self.env["marketing.participant"].browse(
                wizard.action_launch_test()["res_id"]
            )
            self.assertTrue(test_participant.is_test)
            self.assertEqual(campaign.test_participant_count, 1)
            self.assertEqual(campaign.total_participant_count, 0)
            campaign.action_start_campaign()
            campaign.sync_participants()
            campaign.sync_participants()
        # the test participant did not block the real enrolment of its record
        real = self._participant(campaign, tested)
        self.assertEqual(len(real), 1)
        self.assertFalse(real.is_test)
        self.assertEqual(real.trace_ids.activity_id, root)
        self.assertFalse(real.trace_ids.is_test)
        self.assertEqual(len(self._real(campaign)), len(self.records))
        # synchronisation never creates test participants
        tests = campaign.participant_ids.filtered("is_test")
        self.assertEqual(tests, test_participant)
        self.assertEqual(len(tests.trace_ids), 1)
        self.assertEqual(campaign.test_participant_count, 1)
        self.assertEqual(campaign.running_participant_count, len(self.records))
        self.assertEqual(campaign.total_participant_count, len(self.records))

    def test_enrol_unique_indexes(self):
        campaign, _root = self._new_campaign()
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
        Participant = self.env["marketing.participant"]
        participant = self._participant(campaign, self.records[0])
        newcomer = self.env["res.partner"].create({"name": "Somebody", "email": "s@example.com"})
        for values in (
            {"res_id": participant.res_id},
            {"res_id": newcomer.id, "unique_key": participant.unique_value},
        ):
            with (
                self.subTest(values=values),
                mute_logger("odoo.sql_db"),
                self.assertRaises(IntegrityError),
                self.cr.savepoint(),
            ):
                Participant.create({"campaign_id": campaign.id, **values})
                Participant.flush_model()
        # test participants may share the record and its value
        test_participant = Participant.create(
            {
                "campaign_id": campaign.id,
                "res_id": participant.res_id,
                "unique_key": participant.unique_value,
                "is_test": True,
            }
        )
        Participant.flush_model()
        self.assertTrue(test_participant.exists())
        # another campaign may enrol the same record
        other, _root = self._new_campaign()
        with freeze_time(self.reference_now):
            other.action_start_campaign()
            other.sync_participants()
        self.assertEqual(len(self._real(other)), len(self.records))
