from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CRON_XMLID, MarketingAutomationCommon

CAMPAIGN_LOGGER = "odoo.addons.marketing_automation_community.models.marketing_campaign"


@tagged("marketing_automation", "post_install", "-at_install")
class TestSecurityScheduler(MarketingAutomationCommon):
    """The scheduler, run as OdooBot (the superuser): it runs each campaign with
    the rights of its responsible, and one campaign's failure stops no other."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # records who ran it, and whether as superuser
        cls.probe_action = cls.env["ir.actions.server"].create(
            {
                "name": "Who runs me",
                "model_id": cls.partner_model.id,
                "state": "code",
                "code": "record.write({'ref': '%s/%s' % (env.uid, env.su)})",
            }
        )
        cls.contacts.write({"ref": False})

    def test_scheduler_never_runs_as_superuser(self):
        """Under the cron (OdooBot, the superuser), enrolment and actions run
        with the rights of the responsible."""
        user = self.user_marketing_automation
        campaign = self._create_campaign(name="Probe")
        self._create_activity(campaign, "action", server_action_id=self.probe_action.id)
        campaign.action_start_campaign()
        self.assertEqual(self.env.ref(CRON_XMLID).user_id.id, SUPERUSER_ID)
        self._run_cron()
        self.assertEqual(set(self.contacts.mapped("ref")), {f"{user.id}/False"})
        self.assertEqual(set(campaign.participant_ids.mapped("create_uid")), {user})
        self.assertEqual(set(campaign.participant_ids.trace_ids.mapped("create_uid")), {user})

    def test_enrolment_date_is_the_engines(self):
        """A user who may write the campaign cannot push its last enrolment
        into the future to hold back the enrolment of new records; clearing it
        (enrol sooner) stays possible, and the scheduler keeps writing it."""
        campaign = self._create_campaign(name="Held back")
        self._create_activity(campaign, "action", server_action_id=self.probe_action.id)
        campaign.action_start_campaign()
        as_user = campaign.with_user(self.user_marketing_automation)
        with self.assertRaises(AccessError):
            as_user.write({"last_sync_date": "2099-01-01 00:00:00"})
        as_user.write({"last_sync_date": False})
        self._run_cron()
        self.assertTrue(campaign.participant_ids)
        self.assertLessEqual(campaign.last_sync_date, fields.Datetime.now())

    def test_scheduler_contains_a_failing_campaign(self):
        """An expiry that overflows (stored before the bounds existed) stops
        its own campaign only."""
        bad = self._create_campaign(name="Overflow")
        email = self._create_activity(bad, "email")
        self._create_activity(
            bad,
            "action",
            parent=email,
            trigger_type="mail_open",
            validity_duration=True,
            validity_duration_number=1,
        )
        healthy = self._create_campaign(name="Healthy")
        self._create_activity(healthy, "action", server_action_id=self.probe_action.id)
        (bad + healthy).action_start_campaign()
        with self.mock_mail_gateway():
            self._run_cron()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE marketing_activity SET validity_duration_number = 2147483647, "
            "validity_duration_type = 'weeks' WHERE campaign_id = %s",
            [bad.id],
        )
        self.env.invalidate_all()
        newcomer = self.env["res.partner"].create({"name": "Newcomer", "email": "n@example.com"})
        healthy.domain = repr([("id", "in", (self.contacts + newcomer).ids)])
        # the overflowing interval is a failing query: PostgreSQL's error is logged too
        with mute_logger(CAMPAIGN_LOGGER, "odoo.sql_db"), self.mock_mail_gateway():
            self._run_cron()
        self.assertTrue(bad.scheduler_error)
        self.assertEqual(newcomer.ref, f"{self.user_marketing_automation.id}/False")
        self.assertFalse(healthy.scheduler_error)

    def test_scheduler_conflict_is_not_an_error(self):
        """A conflict with another worker enrolling the same campaign is not the
        campaign's fault: it is skipped quietly and runs at the next run."""
        campaign = self._create_campaign(name="Busy")
        self._create_activity(campaign, "action", server_action_id=self.probe_action.id)
        campaign.action_start_campaign()
        Campaign = type(campaign)
        with patch.object(
            Campaign,
            "_enrol_new_participants",
            autospec=True,
            side_effect=SerializationFailure("could not serialize access"),
        ):
            self._run_cron()
        self.assertFalse(campaign.scheduler_error)
        self.assertFalse(campaign.participant_ids)
        self._run_cron()
        self.assertEqual(len(campaign.participant_ids), 3)
