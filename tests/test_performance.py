from unittest.mock import patch

from freezegun import freeze_time

from odoo import sql_db
from odoo.tests import tagged, users, warmup

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestPerformance(MarketingAutomationCommon):
    """The engine's query count does not grow with the number of participants:
    each measure runs the same operation on 10 and on 100 records, after a
    warm-up run on 5 records that fills Odoo's caches, and compares the counts.

    Two costs that grow with the volume belong to Odoo, not to the engine, and
    are kept out of the measures: the ORM inserts and updates rows by batches
    of 100 (so at most 100 traces are created per activity here), and Odoo's
    mass mailing shortens the links of each message (one link.tracker search
    per message) and sends by batches of ``mail.batch_size`` mails (so the
    templates have no link and the batch holds every mail)."""

    SIZES = {"warmup": 5, "small": 10, "large": 100}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.targets = {
            label: cls.env["res.partner"].create(
                [
                    {
                        "name": f"Perf {label} {index}",
                        "email": f"perf.{label}.{index}@example.com",
                        "phone": f"+32457{index:06d}",
                        "country_id": cls.env.ref("base.be").id,
                    }
                    for index in range(size)
                ]
            )
            for label, size in cls.SIZES.items()
        }
        cls.env["ir.config_parameter"].set_param("mail.batch_size", 1000)

    def _new_campaign(self, label, root_type="email", child_types=(), **values):
        """A running campaign on the records of ``label``: one root activity
        (its own template, so that every measured send is a first send) and
        children of the root."""
        campaign = self._create_campaign(
            domain=[("id", "in", self.targets[label].ids)], name=f"Perf {label}", **values
        )
        root = self._create_activity(campaign, root_type, **self._content(label, root_type))
        for child_type in child_types:
            self._create_activity(campaign, child_type, parent=root, interval_number=1)
        campaign.action_start_campaign()
        return campaign

    def _content(self, label, activity_type):
        if activity_type == "email":
            mailing = self._create_marketing_mailing(f"Welcome {label}", "mail")
            mailing.body_html = "<p>Hello <t t-out='object.name'/>, welcome!</p>"
        elif activity_type == "sms":
            mailing = self._create_marketing_mailing(f"Welcome {label}", "sms")
            mailing.body_plaintext = "Welcome!"
        else:
            return {}
        return {"mass_mailing_id": mailing.id}

    def _measure(self, operation):
        """Query counts of ``operation(label)`` for the small and the large
        set, after a warm-up run on the warm-up set."""
        counts = {
            label: self._count_queries(lambda label=label: operation(label)) for label in self.SIZES
        }
        return counts["small"], counts["large"]

    def test_sync_participants_query_count(self):
        email_field = self.env["ir.model.fields"]._get("res.partner", "email")
        with freeze_time(self.reference_now):
            campaigns = {
                label: self._new_campaign(
                    label, child_types=("sms", "action"), unique_field_id=email_field.id
                )
                for label in self.SIZES
            }
            small, large = self._measure(lambda label: campaigns[label].sync_participants())
        self.assertEqual(small, large, "enrolment must not query per participant")
        for label, campaign in campaigns.items():
            self.assertEqual(campaign.running_participant_count, self.SIZES[label])
            traces = campaign.participant_ids.trace_ids
            self.assertEqual(len(traces), self.SIZES[label])
            self.assertEqual(traces.activity_id.trigger_type, "begin")

        # the records are deleted: their participants are unlinked in constant queries too
        for targets in self.targets.values():
            targets.unlink()
        with freeze_time(self.reference_now):
            small, large = self._measure(lambda label: campaigns[label].sync_participants())
        self.assertEqual(small, large, "unlinking must not query per participant")
        for label, campaign in campaigns.items():
            participants = campaign.participant_ids
            self.assertEqual(participants.mapped("state"), ["unlinked"] * self.SIZES[label])
            self.assertEqual(set(participants.trace_ids.mapped("state")), {"canceled"})

    def test_execute_email_query_count(self):
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            campaigns = {}
            for label in self.SIZES:
                campaigns[label] = self._new_campaign(label, child_types=("action",))
                campaigns[label].sync_participants()
            small, large = self._measure(lambda label: campaigns[label].execute_activities())
        self.assertEqual(small, large, "sending an email activity must not query per participant")
        for label, campaign in campaigns.items():
            size = self.SIZES[label]
            root = campaign.marketing_activity_ids.filtered(lambda a: not a.parent_id)
            self.assertEqual(root.trace_ids.mapped("state"), ["processed"] * size)
            self.assertEqual(len(root.trace_ids.mailing_trace_ids), size)
            mails = self._new_mails.filtered(
                lambda mail, root=root: mail.mailing_id == root.mass_mailing_id
            )
            self.assertEqual(len(mails), size)
            self.assertEqual(set(mails.mapped("state")), {"outgoing"})
            self.assertEqual(mails.recipient_ids, self.targets[label])
            # the children were created for every participant in the same queries
            self.assertEqual(root.child_ids.trace_ids.mapped("state"), ["scheduled"] * size)

    def test_execute_sms_query_count(self):
        with freeze_time(self.reference_now), self.mockSMSGateway():
            campaigns = {}
            for label in self.SIZES:
                campaigns[label] = self._new_campaign(label, root_type="sms")
                campaigns[label].sync_participants()
            small, large = self._measure(lambda label: campaigns[label].execute_activities())
        self.assertEqual(small, large, "sending an SMS activity must not query per participant")
        for label, campaign in campaigns.items():
            traces = campaign.participant_ids.trace_ids
            self.assertEqual(traces.mapped("state"), ["processed"] * self.SIZES[label])
            self.assertEqual(len(traces.mailing_trace_ids), self.SIZES[label])

    def test_execute_action_query_count(self):
        """A server action run once per record: Odoo's ``run()`` checks the
        access to its record each time; the engine checks the batch first, in
        one read, so that these checks find the records in the cache."""
        self.server_action.code = "pass"
        with freeze_time(self.reference_now):
            campaigns = {}
            for label in self.SIZES:
                campaigns[label] = self._new_campaign(label, root_type="action")
                campaigns[label].sync_participants()
            small, large = self._measure(lambda label: campaigns[label].execute_activities())
        self.assertEqual(small, large, "a server action step must not query per trace")
        for label, campaign in campaigns.items():
            traces = campaign.participant_ids.trace_ids
            self.assertEqual(traces.mapped("state"), ["processed"] * self.SIZES[label])

    def test_statistics_query_count(self):
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            campaigns = {}
            for label in self.SIZES:
                campaigns[label] = self._new_campaign(label, child_types=("action",))
                campaigns[label].sync_participants()
                campaigns[label].execute_activities()
            self._send_queued_mails()
            # events, so that every statistic has something to count
            for campaign in campaigns.values():
                mailing_traces = campaign.participant_ids.trace_ids.mailing_trace_ids.sorted("id")
                mailing_traces[:2].set_opened()
                mailing_traces[:1].set_clicked()
                mailing_traces[2:3].set_bounced()
                mailing_traces[3:4].set_replied()
        activities = {
            label: campaign.marketing_activity_ids for label, campaign in campaigns.items()
        }
        all_activities = activities["warmup"] | activities["small"] | activities["large"]
        # the statistics of one activity cost what those of all six cost
        counts = [
            self._count_queries(lambda records=records: records.read(self.STATISTICS))
            for records in (activities["warmup"], activities["small"][:1], all_activities)
        ]
        self.assertEqual(counts[1], counts[2], "activity statistics must not query per activity")
        for label, campaign_activities in activities.items():
            size = self.SIZES[label]
            email = campaign_activities.filtered(lambda a: a.activity_type == "email")
            self.assertEqual(
                email.read(self.STATISTICS)[0],
                {
                    "id": email.id,
                    "processed": size,
                    "rejected": 0,
                    "total_sent": size,
                    "total_open": 3,
                    "total_reply": 1,
                    "total_click": 1,
                    "total_bounce": 1,
                },
            )
            # the action children did not run yet
            action = campaign_activities - email
            self.assertEqual((action.processed, action.rejected, action.total_sent), (0, 0, 0))

        # participant counts: one campaign costs what all of them cost
        all_campaigns = campaigns["warmup"] | campaigns["small"] | campaigns["large"]
        counts = [
            self._count_queries(lambda records=records: records.read(self.PARTICIPANT_COUNTS))
            for records in (campaigns["warmup"], campaigns["small"], all_campaigns)
        ]
        self.assertEqual(counts[1], counts[2], "participant counts must not query per campaign")
        for label, campaign in campaigns.items():
            # every participant waits for its action child (a bounce does not cancel it)
            self.assertEqual(campaign.running_participant_count, self.SIZES[label])
            self.assertEqual(campaign.completed_participant_count, 0)
            self.assertEqual(campaign.total_participant_count, self.SIZES[label])

    def test_single_open_query_count(self):
        """One open arriving alone (the tracking pixel) costs the same queries
        whatever the size of the campaign."""
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            campaigns = {}
            for label in self.SIZES:
                campaigns[label] = self._new_campaign(label, child_types=("action",))
                root = campaigns[label].marketing_activity_ids.filtered(lambda a: not a.parent_id)
                root.child_ids.trigger_type = "mail_open"
                campaigns[label].sync_participants()
                campaigns[label].execute_activities()

            def open_one(label):
                traces = campaigns[label].participant_ids.trace_ids.mailing_trace_ids
                traces.sorted("id")[:1].set_opened()

            small, large = self._measure(open_one)
        self.assertEqual(small, large, "an open must not query per participant of the campaign")
        for campaign in campaigns.values():
            waiting = campaign.participant_ids.trace_ids.filtered(lambda t: t.parent_id)
            self.assertEqual(len(waiting.filtered("schedule_date")), 1)


@tagged("marketing_automation", "post_install", "-at_install")
class TestQueryCounts(MarketingAutomationCommon):
    """The query counts of the engine's main flows, pinned, run by the
    marketing user for a batch of ten records: a change that adds queries to
    enrolment, to a batch of an email, an SMS or a server action, or to an
    event, fails here. Counts lower than pinned are only logged by Odoo:
    lower the pin when a change saves queries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.targets = cls.env["res.partner"].create(
            [
                {
                    "name": f"Counted {index}",
                    "email": f"counted.{index}@example.com",
                    "phone": f"+32458{index:06d}",
                    "country_id": cls.env.ref("base.be").id,
                }
                for index in range(10)
            ]
        )
        cls.env["ir.config_parameter"].set_param("mail.batch_size", 1000)

    def _campaign(self, root_type, enrol=True, **values):
        """A running campaign on the ten targets, with one root activity of
        ``root_type``, in the marketing user's environment."""
        campaign = self._create_campaign(domain=[("id", "in", self.targets.ids)])
        root = self._create_activity(campaign, root_type, **values)
        campaign.action_start_campaign()
        if enrol:
            campaign.sync_participants()
        self.env.flush_all()
        return campaign.with_env(self.env), root.with_env(self.env)

    def _assert_processed(self, root):
        self.assertEqual(root.trace_ids.mapped("state"), ["processed"] * len(self.targets))

    @users("user_marketing_automation")
    @warmup
    def test_query_count_enrolment(self):
        with freeze_time(self.reference_now):
            campaign, root = self._campaign("email", enrol=False)
            # one of them reads which activities count from a date of the record
            with self.assertQueryCount(user_marketing_automation=6):
                campaign.sync_participants()
        self.assertEqual(len(root.trace_ids), len(self.targets))

    @users("user_marketing_automation")
    @warmup
    def test_query_count_email_batch(self):
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            campaign, root = self._campaign("email")
            with self.assertQueryCount(user_marketing_automation=72):
                campaign.execute_activities()
        self._assert_processed(root)

    @users("user_marketing_automation")
    @warmup
    def test_query_count_sms_batch(self):
        with freeze_time(self.reference_now), self.mockSMSGateway():
            campaign, root = self._campaign("sms")
            with self.assertQueryCount(user_marketing_automation=53):
                campaign.execute_activities()
        self._assert_processed(root)

    @users("user_marketing_automation")
    @warmup
    def test_query_count_action_batch(self):
        with freeze_time(self.reference_now):
            campaign, root = self._campaign("action")
            with self.assertQueryCount(user_marketing_automation=54):
                campaign.execute_activities()
        self._assert_processed(root)

    @users("user_marketing_automation")
    @warmup
    def test_query_count_action_run_once_per_batch(self):
        self.server_action.code = "records.write({'ref': 'engaged'})"
        with freeze_time(self.reference_now):
            campaign, root = self._campaign("action", run_once_per_batch=True)
            with self.assertQueryCount(user_marketing_automation=42):
                campaign.execute_activities()
        self._assert_processed(root)

    @users("user_marketing_automation")
    @warmup
    def test_query_count_open(self):
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            campaign, root = self._campaign("email")
            child = self._create_activity(
                root.campaign_id, "action", parent=root, trigger_type="mail_open"
            )
            campaign.execute_activities()
            mailing_trace = root.trace_ids.mailing_trace_ids.sorted("id")[:1]
            self.env.flush_all()
            # the tracking pixel's request starts from an empty cache
            self.env.invalidate_all()
            with self.assertQueryCount(user_marketing_automation=10):
                # sudo: the tracking pixel records the open as the public user
                mailing_trace.sudo().set_opened()
        self.assertEqual(len(child.trace_ids.filtered("schedule_date")), 1)


@tagged("marketing_automation", "post_install", "-at_install")
class TestMailQueueQueryCounts(MarketingAutomationCommon):
    """The mail queue sends a campaign's mails with the message queries of a
    plain mass mailing's: what the module adds to sending (the signature of
    the campaign's links) costs no query per mail. The queue commits after
    each mail, which empties the ORM's cache: the measure empties it after
    each mail too, and counts the queries on the messages and campaign traces
    and those of preparing each mail's body (the rest of the mail queue is
    Odoo's, the same for both)."""

    SIZES = {"warmup": 5, "small": 10, "large": 30}
    TABLES = ('"mailing_trace"', '"marketing_trace"', " mailing_trace", " marketing_trace")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("mail.mail.force.send.limit", 0)
        cls.targets = {
            (label, kind): cls.env["res.partner"].create(
                [
                    {"name": f"Queue {kind} {index}", "email": f"queue.{kind}.{index}@example.com"}
                    for index in range(size)
                ]
            )
            for label, size in cls.SIZES.items()
            for kind in ("campaign", "plain")
        }

    def _queue_campaign(self, targets):
        campaign = self._create_campaign(domain=[("id", "in", targets.ids)])
        self._create_activity(campaign, "email")
        campaign.action_start_campaign()
        campaign.sync_participants()
        campaign.execute_activities()

    def _queue_plain(self, targets):
        self.env["mailing.mailing"].create(
            {
                "subject": "Plain",
                "mailing_type": "mail",
                "mailing_model_id": self.partner_model.id,
                "mailing_domain": repr([("id", "in", targets.ids)]),
                "body_html": "<p>Hello <a href='https://www.example.com/offer'>offer</a></p>",
            }
        ).action_send_mail()

    def _send_queue(self):
        """The queries on messages and traces of sending the queued mails as
        the mail queue's cron does, the cache emptied after each mail."""
        MailMail = self.registry["mail.mail"]
        postprocess = MailMail._postprocess_sent_message

        def postprocess_and_clear(mails, *args, **kwargs):
            res = postprocess(mails, *args, **kwargs)
            mails.env.flush_all()
            mails.env.invalidate_all()
            return res

        execute = sql_db.Cursor.execute
        prepare_body = MailMail._prepare_outgoing_body
        queries = []
        in_body = []

        def counting_execute(cursor, query, params=None, log_exceptions=True):
            if in_body or any(table in str(query) for table in self.TABLES):
                queries.append(query)
            return execute(cursor, query, params, log_exceptions)

        def counting_prepare_body(mail):
            in_body.append(mail)
            try:
                return prepare_body(mail)
            finally:
                in_body.pop()

        # sudo: the mail queue's cron runs as the superuser
        mails = self.env["mail.mail"].sudo().search([("state", "=", "outgoing")])
        self.env.flush_all()
        self.env.invalidate_all()
        with (
            patch.object(MailMail, "_postprocess_sent_message", postprocess_and_clear),
            patch.object(sql_db.Cursor, "execute", counting_execute),
            patch.object(MailMail, "_prepare_outgoing_body", counting_prepare_body),
        ):
            mails._send()
            self.env.flush_all()
        self.assertEqual(set(mails.mapped("state")), {"sent"})
        return len(queries)

    def test_queue_query_count(self):
        counts = {}
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            for label in self.SIZES:
                for kind in ("campaign", "plain"):
                    getattr(self, f"_queue_{kind}")(self.targets[label, kind])
                    counts[label, kind] = self._send_queue()
        # per mail, Odoo's two: the body reads the mail's messages (``mailing_trace_ids``)
        # and the message is marked sent; the module's signature reads nothing
        growth = self.SIZES["large"] - self.SIZES["small"]
        for kind in ("campaign", "plain"):
            self.assertEqual(
                counts["large", kind] - counts["small", kind],
                2 * growth,
                f"sending the mails of a {kind} mailing must not read the messages per mail",
            )
        # a campaign's batch reads its messages once
        self.assertEqual(counts["large", "campaign"] - counts["large", "plain"], 1)


@tagged("marketing_automation", "post_install", "-at_install")
class TestBatchQueryCounts(MarketingAutomationCommon):
    """The queries of one more batch of a server action run once per batch,
    by the marketing user: the claim (with the values the batch reads), the
    filter check, the state, Odoo's check of the records in ``run()``, the
    completion of the participants, and the savepoints around them."""

    BATCH_SIZE = 5

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param(
            "marketing_automation_community.batch_size", cls.BATCH_SIZE
        )
        cls.targets = cls.env["res.partner"].create(
            [
                {"name": f"Batch {index}", "email": f"batch.{index}@example.com"}
                for index in range(30)
            ]
        )

    def _campaign(self, targets):
        campaign = self._create_campaign(domain=[("id", "in", targets.ids)])
        self._create_activity(campaign, "action", run_once_per_batch=True)
        campaign.action_start_campaign()
        campaign.sync_participants()
        return campaign.with_user(self.user_marketing_automation)

    def test_query_count_per_batch(self):
        self.server_action.code = "records"
        with freeze_time(self.reference_now):
            campaigns = [self._campaign(self.targets[:5]), self._campaign(self.targets[5:15])]
            campaigns.append(self._campaign(self.targets[15:]))
            # the first warms Odoo's caches; then 2 and 3 batches
            counts = [self._count_queries(campaign.execute_activities) for campaign in campaigns]
        self.assertEqual(counts[2] - counts[1], 14, "queries of one more batch")
        for campaign in campaigns:
            traces = campaign.participant_ids.trace_ids
            self.assertEqual(set(traces.mapped("state")), {"processed"})
