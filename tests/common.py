import contextlib
from datetime import datetime

from odoo import SUPERUSER_ID, api

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.mass_mailing_sms.tests.common import MassSMSCommon

CRON_XMLID = "marketing_automation_community.ir_cron_marketing_automation"
SECOND_CRON_XMLID = "marketing_automation_community.ir_cron_marketing_automation_worker_2"
SETTING_PREFIX = "marketing_automation_community."


class MarketingAutomationCommon(MassSMSCommon):
    """Campaigns on contacts with an email, an SMS and a server action
    template, and a marketing user. Time starts at ``cls.reference_now``."""

    reference_now = datetime(2024, 11, 25, 10, 0, 0)
    STATISTICS = [
        "processed",
        "rejected",
        "total_sent",
        "total_open",
        "total_reply",
        "total_click",
        "total_bounce",
    ]
    PARTICIPANT_COUNTS = [
        "running_participant_count",
        "completed_participant_count",
        "total_participant_count",
        "test_participant_count",
    ]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the scheduler runs every running campaign: the demo one would enrol the
        # test contacts too
        cls.env["marketing.campaign"].search([("state", "=", "running")]).action_stop_campaign()
        cls.user_marketing_automation = mail_new_test_user(
            cls.env,
            login="user_marketing_automation",
            name="Mireille Automation",
            email="mireille@example.com",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_user",
        )
        cls.partner_model = cls.env["ir.model"]._get("res.partner")
        cls.contacts = cls.env["res.partner"].create(
            [
                {
                    "name": f"Contact {index}",
                    "email": f"contact.{index}@example.com",
                    "phone": f"+32456{index:06d}",
                    "country_id": cls.env.ref("base.be").id,
                }
                for index in range(3)
            ]
        )
        cls.mailing_email = cls._create_marketing_mailing("Welcome", "mail")
        cls.mailing_email_followup = cls._create_marketing_mailing("Follow-up", "mail")
        cls.mailing_sms = cls._create_marketing_mailing("Welcome SMS", "sms")
        cls.server_action = cls.env["ir.actions.server"].create(
            {
                "name": "Tag as engaged",
                "model_id": cls.partner_model.id,
                "state": "code",
                "code": "record.write({'ref': 'engaged'})",
            }
        )

    @classmethod
    def _set_up_two_companies(cls, prefix):
        """Company A, where the marketing user now works alone, with a marketing
        manager; company B with a marketing user of its own (the attackers of
        the security tests). ``prefix`` keeps the logins of each class apart."""
        cls.company_a, cls.company_b = cls.company_admin, cls.company_2
        cls.user_marketing_automation.write(
            {"company_id": cls.company_a.id, "company_ids": [(6, 0, cls.company_a.ids)]}
        )
        cls.user_marketing_manager = mail_new_test_user(
            cls.env,
            login=f"{prefix}_manager",
            name="Manon Manager",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_manager",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.user_marketing_b = mail_new_test_user(
            cls.env,
            login=f"{prefix}_user_b",
            name="Bruno CompanyB",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_user",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )

    @classmethod
    def _act_as_marketing_user(cls):
        """From now on the tests of the class act as the marketing user (only
        the Marketing Automation user group): the campaigns they create,
        start, run and test are his and go through his access rights. The
        records made before stay bound to the administrator who set them up."""
        cls.env = cls.env(user=cls.user_marketing_automation)

    @classmethod
    def _create_marketing_mailing(cls, subject, mailing_type, model_name="res.partner"):
        values = {
            "subject": subject,
            "mailing_type": mailing_type,
            "mailing_model_id": cls.env["ir.model"]._get(model_name).id,
            "use_in_marketing_automation": True,
        }
        if mailing_type == "mail":
            values["body_html"] = (
                f"<p>Hello <t t-out='object.name'/>, {subject}: "
                "<a href='https://www.example.com/offer'>Our offer</a></p>"
            )
        else:
            values["body_plaintext"] = f"{subject}: https://www.example.com/sms-offer"
        return cls.env["mailing.mailing"].create(values)

    @classmethod
    def _create_campaign(cls, domain=None, **values):
        """A campaign on the test contacts, the marketing user responsible."""
        domain = domain or [("id", "in", cls.contacts.ids)]
        return cls.env["marketing.campaign"].create(
            {
                "name": "Test Campaign",
                "model_id": cls.partner_model.id,
                "domain": repr(domain),
                "user_id": cls.user_marketing_automation.id,
                **values,
            }
        )

    @classmethod
    def _create_activity(cls, campaign, activity_type="email", parent=None, **values):
        content = {}
        if activity_type == "action":
            content = {"server_action_id": cls.server_action.id}
        elif "mass_mailing_id" not in values:
            mailing = {"email": cls.mailing_email, "sms": cls.mailing_sms}[activity_type]
            content = {"mass_mailing_id": cls._campaign_template(campaign, mailing).id}
        # whoever changes a workflow becomes its responsible: the campaign's user adds it
        return campaign.env["marketing.activity"].create(
            {
                "name": f"{activity_type} activity",
                "campaign_id": campaign.id,
                "activity_type": activity_type,
                "trigger_type": "activity" if parent else "begin",
                "parent_id": parent.id if parent else False,
                "interval_number": 0,
                "interval_type": "hours",
                **content,
                **values,
            }
        )

    @classmethod
    def _campaign_template(cls, campaign, mailing):
        """``mailing``, or this campaign's copy of it when another campaign
        sends it already: a template belongs to one campaign."""
        if not mailing.marketing_activity_ids.campaign_id - campaign:
            return mailing
        copies = campaign.marketing_activity_ids.mass_mailing_id.filtered(
            lambda template: template.subject == mailing.subject
        )
        return copies or mailing.with_env(campaign.env)._copy_marketing_template()

    def _start(self, campaign):
        """Start the campaign and enrol its records now."""
        campaign.action_start_campaign()
        campaign.sync_participants()

    def _run_campaign(self, campaign):
        """Start the campaign, enrol its records and run what is due."""
        self._start(campaign)
        campaign.execute_activities()

    def _launch_test(self, campaign, record):
        """Launch a test of ``campaign`` on ``record``; return the test participant."""
        action = (
            self.env["marketing.campaign.test"]
            .create({"campaign_id": campaign.id, "res_id": record.id})
            .action_launch_test()
        )
        return self.env["marketing.participant"].browse(action["res_id"])

    def _participant(self, campaign, record):
        """The real (non-test) participant of ``record`` in ``campaign``."""
        return campaign.participant_ids.filtered(lambda p: not p.is_test and p.res_id == record.id)

    def _run_cron(self):
        """Run the scheduler job now, as the cron runner does: as its user (OdooBot), then
        each campaign with the rights of its responsible."""
        # sudo: only administrators trigger scheduled actions; the job runs as its own user
        self.env.ref(CRON_XMLID).sudo().method_direct_trigger()

    def _count_queries(self, function):
        """Queries run by ``function`` from a cold cache, flush included."""
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        function()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def _traces(self, activity, records=None):
        traces = activity.trace_ids.filtered(lambda t: not t.is_test)
        if records is not None:
            traces = traces.filtered(lambda t: t.res_id in records.ids).sorted(
                lambda t: records.ids.index(t.res_id)
            )
        return traces

    def _mailing_trace(self, trace):
        self.assertEqual(len(trace.mailing_trace_ids), 1)
        return trace.mailing_trace_ids

    def _send_queued_mails(self):
        """Run the mail queue as the mail cron would (inside mock_mail_gateway)."""
        self.env["mail.mail"].sudo().search([("state", "=", "outgoing")]).send()

    def _send_queued_sms(self):
        """Run the SMS queue as the SMS cron would (inside mockSMSGateway)."""
        self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).send()

    def assertTraceStates(self, traces, state, msg_part=None):
        self.assertTrue(traces, "expected traces to check")
        for trace in traces:
            self.assertEqual(trace.state, state, f"{trace.activity_id.name}: {trace.state_msg}")
            if msg_part:
                self.assertIn(msg_part, trace.state_msg or "")


class PhoneMixin:
    """Browser tours at a phone's size, with touch. Headless Chrome keeps its
    window at least 500 px wide: the page gets the phone's screen, 390x844 px,
    through Chrome's device emulation (Odoo then renders its mobile layout)."""

    browser_size = "390x844"
    touch_enabled = True

    def authenticate(self, user, password, browser=None):
        session = super().authenticate(user, password, browser=browser)
        if browser:
            browser._websocket_request(
                "Emulation.setDeviceMetricsOverride",
                params={"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
            )
        return session


class CommittedDataMixin:
    """For a ``TransactionCase`` whose scheduler workers see only committed data, each in a
    transaction of its own.

    ``TransactionCase`` runs each test in a transaction that is never committed, and only
    ``HttpCase`` puts the registry in test mode: ``self.registry.cursor()`` opens a real,
    independent connection, as another cron worker would. What ``_committing_env`` commits is
    removed at the end of the test. The test's own transaction writes nothing: another worker's
    inserts would wait for its locks until the test ends."""

    def _worker_env(self):
        """A real cursor of its own, rolled back (what it did not commit) and closed at the
        end of the test."""
        cr = self.registry.cursor()
        # a worker waiting for another's locks fails instead of hanging the tests
        cr.execute("SET lock_timeout TO '20s'")
        self.addCleanup(cr.close)
        return api.Environment(cr, SUPERUSER_ID, {})

    @contextlib.contextmanager
    def _committing_env(self, data):
        """An environment whose work is committed at the end of the block. The ids the block
        puts in ``data`` (see ``_remove_committed``) are removed after the test, with the
        scheduler's wake-ups created meanwhile."""
        with self.registry.cursor() as cr:
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM ir_cron_trigger")
            data["last_trigger_id"] = cr.fetchone()[0]
            self.addCleanup(self._remove_committed, data)
            yield api.Environment(
                cr, SUPERUSER_ID, {"tracking_disable": True, "mail_create_nolog": True}
            )

    def _stop_running_campaigns(self, env, data):
        """Stop the running campaigns of the database (the scheduler runs every running
        campaign) in the committing ``env``; they run again after the test."""
        env.cr.execute(
            "UPDATE marketing_campaign SET state = 'stopped' WHERE state = 'running' RETURNING id"
        )
        data["stopped_campaign_ids"] = [row[0] for row in env.cr.fetchall()]

    def _commit_settings(self, env, data, settings):
        """Set the scheduler's system parameters ``settings`` (``batch_size``...) in the
        committing ``env``; the previous values come back after the test."""
        Param = env["ir.config_parameter"]
        data["settings"] = {key: Param.get_param(SETTING_PREFIX + key) for key in settings}
        for key, value in settings.items():
            Param.set_param(SETTING_PREFIX + key, value)

    def _remove_committed(self, data):
        """Delete what a test committed: the records whose ids ``data`` holds (``campaign_id``,
        ``mailing_id`` with its mails and source, ``utm_campaign_id``, ``server_action_id``,
        ``partner_ids``, ``user_id``), the cron triggers made since, and restore the
        ``settings`` and the running state of ``stopped_campaign_ids``."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            mailing = env["mailing.mailing"].browse(data.get("mailing_id")).exists()
            env["mail.mail"].search([("mailing_id", "in", mailing.ids)]).unlink()
            env["marketing.campaign"].browse(data.get("campaign_id")).exists().unlink()
            source = mailing.source_id
            mailing.unlink()
            source.unlink()
            env["utm.campaign"].browse(data.get("utm_campaign_id")).exists().unlink()
            env["ir.actions.server"].browse(data.get("server_action_id")).exists().unlink()
            env["res.partner"].browse(data.get("partner_ids", [])).exists().unlink()
            user = env["res.users"].browse(data.get("user_id")).exists()
            user_partner = user.partner_id
            user.unlink()
            user_partner.unlink()
            env["ir.cron.trigger"].search([("id", ">", data["last_trigger_id"])]).unlink()
            Param = env["ir.config_parameter"]
            for key, value in data.get("settings", {}).items():
                Param.set_param(SETTING_PREFIX + key, value or False)
            stopped = env["marketing.campaign"].browse(data.get("stopped_campaign_ids", []))
            stopped.exists().write({"state": "running"})
