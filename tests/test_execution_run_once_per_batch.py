from freezegun import freeze_time

from odoo.tests import Form, tagged, users
from odoo.tools import mute_logger

from .common import MarketingAutomationCommon

TRACE_LOGGER = "odoo.addons.marketing_automation_community.models.marketing_trace"


@tagged("marketing_automation", "post_install", "-at_install")
class TestRunOncePerBatch(MarketingAutomationCommon):
    """The activity option *Run once per batch*: the server action gets the
    whole batch as ``records``; a failing batch is run again record by record,
    so that only the faulty records end in error."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # each record notes the size of the recordset the action got
        cls.server_action.code = (
            "for partner in records:\n"
            "    if partner.name == 'Contact 1':\n"
            "        raise UserError('Contact 1 cannot be engaged')\n"
            "records.write({'ref': 'batch of %s' % len(records)})"
        )

    def _run(self, contacts, **activity_values):
        campaign = self._create_campaign(domain=[("id", "in", contacts.ids)])
        activity = self._create_activity(campaign, "action", **activity_values)
        with freeze_time(self.reference_now):
            self._start(campaign)
            campaign.with_user(self.user_marketing_automation).execute_activities()
        return activity

    @users("user_marketing_automation")
    def test_batch_gets_all_records(self):
        contacts = self.contacts[0] | self.contacts[2]
        activity = self._run(contacts, run_once_per_batch=True)
        self.assertTraceStates(self._traces(activity), "processed")
        self.assertEqual(contacts.mapped("ref"), ["batch of 2", "batch of 2"])
        self.assertEqual(contacts.write_uid, self.user_marketing_automation)

    @users("user_marketing_automation")
    @mute_logger(TRACE_LOGGER)
    def test_failing_record_alone_in_error(self):
        activity = self._run(self.contacts, run_once_per_batch=True)
        succeeded, refused, other = self._traces(activity, self.contacts)
        self.assertTraceStates(succeeded + other, "processed")
        self.assertTraceStates(refused, "error", "Contact 1 cannot be engaged")
        # the failed batch was rolled back, then each record ran alone
        self.assertEqual(self.contacts.mapped("ref"), ["batch of 1", False, "batch of 1"])

    @users("user_marketing_automation")
    def test_off_by_default_one_record_per_run(self):
        self.server_action.code = "record.write({'ref': 'alone' if len(records) == 1 else 'not'})"
        activity = self._run(self.contacts)
        self.assertFalse(activity.run_once_per_batch)
        self.assertTraceStates(self._traces(activity), "processed")
        self.assertEqual(self.contacts.mapped("ref"), ["alone"] * 3)

    def test_option_shown_for_server_actions_only(self):
        campaign = self._create_campaign()
        form = Form(
            self.env["marketing.activity"]
            .with_user(self.user_marketing_automation)
            .with_context(default_campaign_id=campaign.id)
        )
        form.name = "Tag"
        form.activity_type = "email"
        self.assertTrue(form._get_modifier("run_once_per_batch", "invisible"))
        form.activity_type = "action"
        self.assertFalse(form._get_modifier("run_once_per_batch", "invisible"))
