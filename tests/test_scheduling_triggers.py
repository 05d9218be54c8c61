import re
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import mail, mute_logger

from odoo.addons.mass_mailing.controllers.main import MassMailController
from odoo.addons.sms.controllers.main import SmsController

from .common import MarketingAutomationCommon

TRACE_LOGGER = "odoo.addons.marketing_automation_community.models.marketing_trace"

# triggers whose child waits for an event of its parent's message
EVENT_TRIGGERS = {"mail_open", "mail_reply", "mail_click", "mail_bounce", "sms_click", "sms_bounce"}

# what becomes of each child (run, wait for an event that never came, or
# canceled with the reason) when its parent email gets no event, is opened,
# clicked, replied to or bounces
MAIL_EVENTS = ("none", "open", "click", "reply", "bounce")
MAIL_OUTCOMES = {
    "activity": ("run", "run", "run", "run", "run"),
    "mail_open": ("wait", "run", "run", "run", "bounced"),
    "mail_not_open": ("run", "opened", "opened", "opened", "bounced"),
    "mail_reply": ("wait", "wait", "wait", "run", "bounced"),
    "mail_not_reply": ("run", "run", "run", "replied", "bounced"),
    "mail_click": ("wait", "wait", "run", "wait", "bounced"),
    "mail_not_click": ("run", "run", "clicked", "run", "bounced"),
    # a click or a reply proves the message arrived: it will not bounce
    "mail_bounce": ("wait", "wait", "clicked", "replied", "run"),
}
# the same for an SMS parent that gets no event, is clicked or bounces
SMS_EVENTS = ("none", "click", "bounce")
SMS_OUTCOMES = {
    "activity": ("run", "run", "run"),
    "sms_click": ("wait", "run", "bounced"),
    "sms_not_click": ("run", "clicked", "bounced"),
    "sms_bounce": ("wait", "clicked", "run"),
}

REPLY_EMAIL = """From: {email_from}
To: {to}
Subject: {subject}
Message-ID: {msg_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
{extra}
Sounds great, please call me.
"""

BOUNCE_EMAIL = """From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce.{email}@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="REPORT"

--REPORT
Content-Type: text/plain; charset=utf-8

Your message to {email} could not be delivered: the mailbox does not exist.

--REPORT
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.1.1

--REPORT
Content-Type: text/rfc822-headers

Message-ID: {bounced_message_id}
To: {email}
Subject: Welcome

--REPORT--
"""


class TriggerCase(MarketingAutomationCommon):
    """Five contacts, the marketing user acting, and the helpers that create
    children per trigger and make the events of a message happen (the
    gateway, the public routes) for the trigger, event and expiry tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contacts += cls.env["res.partner"].create(
            [
                {
                    "name": f"Contact {index}",
                    "email": f"contact.{index}@example.com",
                    "phone": f"+32456{index:06d}",
                    "country_id": cls.env.ref("base.be").id,
                }
                for index in range(3, 5)
            ]
        )
        cls._act_as_marketing_user()

    def _create_children(self, parent, triggers, **values):
        """A server action child of ``parent`` per trigger, two hours after it."""
        return {
            trigger: self._create_activity(
                parent.campaign_id,
                "action",
                parent=parent,
                **{"name": trigger, "trigger_type": trigger, "interval_number": 2, **values},
            )
            for trigger in triggers
        }

    def assertOutcome(self, trace, outcome):
        """``run``: processed; ``wait``: still waiting for its event; else
        canceled with ``outcome`` in the reason."""
        if outcome == "run":
            self.assertTraceStates(trace, "processed")
        elif outcome == "wait":
            self.assertTraceStates(trace, "scheduled")
            self.assertFalse(trace.schedule_date)
        else:
            self.assertTraceStates(trace, "canceled", outcome)

    def _check_outcomes(self, frozen, campaign, children, table, events, set_event):
        """The parent message of ``children`` went to one contact per event
        at ``reference_now``; ``set_event(record, event)`` records each event
        an hour later. Positive children wait for their event and run two
        hours after it, the others run two hours after the parent unless their
        event came first (then they are canceled at once); every child ends
        as ``table`` says."""
        start = self.reference_now
        cells = [
            (trigger, event, outcome, trace)
            for trigger, outcomes in table.items()
            for event, outcome, trace in zip(
                events,
                outcomes,
                self._traces(children[trigger], self.contacts[: len(events)]),
                strict=True,
            )
        ]
        for trigger, event, _outcome, trace in cells:
            with self.subTest(trigger=trigger, event=event):
                self.assertTraceStates(trace, "scheduled")
                self.assertEqual(
                    trace.schedule_date,
                    False if trigger in EVENT_TRIGGERS else start + timedelta(hours=2),
                )

        frozen.tick(timedelta(hours=1))
        for record, event in zip(self.contacts[: len(events)], events, strict=True):
            if event != "none":
                set_event(record, event)
        for trigger, event, outcome, trace in cells:
            with self.subTest(trigger=trigger, event=event):
                if outcome == "run":
                    self.assertTraceStates(trace, "scheduled")
                    self.assertEqual(
                        trace.schedule_date,
                        start + timedelta(hours=3 if trigger in EVENT_TRIGGERS else 2),
                    )
                else:
                    self.assertOutcome(trace, outcome)

        # two hours after the parent: what counts from the parent ran
        frozen.tick(timedelta(hours=1))
        campaign.execute_activities()
        for trigger, event, outcome, trace in cells:
            if outcome == "run":
                with self.subTest(trigger=trigger, event=event):
                    self.assertTraceStates(
                        trace, "scheduled" if trigger in EVENT_TRIGGERS else "processed"
                    )

        # two hours after the events: everything ran
        frozen.tick(timedelta(hours=1))
        campaign.execute_activities()
        for trigger, event, outcome, trace in cells:
            with self.subTest(trigger=trigger, event=event):
                self.assertOutcome(trace, outcome)

    # ------------------------------------------------------------
    # GATEWAY
    # ------------------------------------------------------------

    @contextmanager
    def _mock_public_request(self, controller_module):
        """Serve a public route of ``controller_module`` without a server."""
        request = SimpleNamespace(env=self.env(user=self.env.ref("base.public_user")))
        with patch(f"{controller_module}.request", request):
            yield

    def _email_links(self, record):
        """The links of the email sent to ``record``, by label."""
        body = self._find_sent_mail_wemail(record.email_formatted)["body"]
        return {
            label: url for _href, url, _dummy, label in re.findall(mail.HTML_TAG_URL_REGEX, body)
        }

    def _open_email(self, record):
        """Load the tracking pixel of the email sent to ``record``."""
        body = self._find_sent_mail_wemail(record.email_formatted)["body"]
        mail_id, token = re.search(r"/mail/track/(\d+)/(\w+)/blank\.gif", body).groups()
        with self._mock_public_request("odoo.addons.mass_mailing.controllers.main"):
            MassMailController().track_mail_open(int(mail_id), token)

    def _click_email_link(self, record, label):
        """Follow the tracked link ``label`` of the email sent to ``record``
        (what ``/r/<code>/m/<trace_id>`` does before redirecting)."""
        code, trace_id = re.search(r"/r/(\w+)/m/(\d+)", self._email_links(record)[label]).groups()
        self.env["link.tracker.click"].sudo().add_click(
            code, ip="100.200.30.40", country_code="BE", mailing_trace_id=int(trace_id)
        )

    def _reply_to_email(self, record):
        """An answer to the email sent to ``record`` comes in through the mail gateway."""
        sent_email = self._find_sent_mail_wemail(record.email_formatted)
        self.format_and_process(
            REPLY_EMAIL,
            record.email_formatted,
            sent_email["reply_to"],
            subject=f"Re: {sent_email['subject']}",
            extra=f"In-Reply-To: {sent_email['message_id']}\n",
            target_model="res.partner",
        )

    def _bounce_email(self, record):
        """The mail server returns the email sent to ``record`` to the bounce alias."""
        sent_email = self._find_sent_mail_wemail(record.email_formatted)
        self.env["mail.thread"].sudo().message_process(
            False,
            BOUNCE_EMAIL.format(
                to=self.mail_alias_domain.bounce_email,
                email=record.email_normalized,
                bounced_message_id=sent_email["message_id"],
            ),
        )

    def _report_sms_undelivered(self, mailing_trace):
        """IAP reports the SMS of ``mailing_trace`` as sent to an invalid number."""
        tracker = (
            self.env["sms.tracker"].sudo().search([("mailing_trace_id", "=", mailing_trace.id)])
        )
        self.assertEqual(len(tracker), 1)
        with self._mock_public_request("odoo.addons.sms.controllers.main"):
            SmsController().update_sms_status(
                [{"sms_status": "invalid_destination", "uuids": [tracker.sms_uuid]}]
            )


@tagged("marketing_automation", "post_install", "-at_install")
class TestTriggers(TriggerCase):
    """When children run: from the participant's entry, from their parent's
    execution, or from an event (open, click, reply, bounce) of their parent's
    email or SMS; the children that an event makes impossible are canceled."""

    # ------------------------------------------------------------
    # BEGIN / ACTIVITY
    # ------------------------------------------------------------

    def test_begin_and_activity_triggers(self):
        campaign = self._create_campaign(domain=[("name", "=like", "Contact %")])
        root = self._create_activity(campaign, "action", interval_number=2)
        child = self._create_activity(
            campaign, "action", parent=root, interval_number=1, interval_type="days"
        )
        start = self.reference_now
        with freeze_time(start) as frozen:
            self._run_campaign(campaign)
            root_traces = self._traces(root, self.contacts)
            self.assertTraceStates(root_traces, "scheduled")
            self.assertEqual(set(root_traces.mapped("schedule_date")), {start + timedelta(hours=2)})
            self.assertFalse(child.trace_ids, "children come with their parent's execution")

            # a record entering later counts its delay from its own entry
            frozen.tick(timedelta(hours=1))
            newcomer = self.env["res.partner"].create(
                {"name": "Contact newcomer", "email": "newcomer@example.com"}
            )
            campaign.sync_participants()
            campaign.execute_activities()
            self.assertTraceStates(root_traces, "scheduled")
            newcomer_trace = self._traces(root, newcomer)
            self.assertEqual(newcomer_trace.schedule_date, start + timedelta(hours=3))

            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            self.assertTraceStates(root_traces, "processed")
            self.assertTraceStates(newcomer_trace, "scheduled")
            child_traces = self._traces(child, self.contacts)
            self.assertEqual(child_traces.parent_id, root_traces)
            self.assertTraceStates(child_traces, "scheduled")
            self.assertEqual(
                set(child_traces.mapped("schedule_date")), {start + timedelta(days=1, hours=2)}
            )
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            self.assertTraceStates(newcomer_trace, "processed")

            frozen.tick(timedelta(days=1) - timedelta(hours=1, minutes=1))
            campaign.execute_activities()
            self.assertTraceStates(child_traces, "scheduled")
            frozen.tick(timedelta(minutes=1))
            campaign.execute_activities()
            self.assertTraceStates(child_traces, "processed")
            self.assertTraceStates(self._traces(child, newcomer), "scheduled")
            self.assertEqual(
                self._traces(child, newcomer).schedule_date, start + timedelta(days=1, hours=3)
            )

    # ------------------------------------------------------------
    # EVENTS
    # ------------------------------------------------------------

    def test_mail_triggers(self):
        """Every mail trigger against every event of the parent email, the
        events recorded through Odoo's ``mailing.trace`` API."""
        campaign = self._create_campaign()
        email = self._create_activity(campaign, "email")
        children = self._create_children(email, MAIL_OUTCOMES)
        record_event = {
            "open": "set_opened",
            "click": "set_clicked",
            "reply": "set_replied",
            "bounce": "set_bounced",
        }

        def set_event(record, event):
            mailing_trace = self._mailing_trace(self._traces(email, record))
            getattr(mailing_trace, record_event[event])()

        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
            self.assertTraceStates(self._traces(email), "processed")
            self._check_outcomes(frozen, campaign, children, MAIL_OUTCOMES, MAIL_EVENTS, set_event)

            # only the bounced participant has no child waiting for an event
            self.assertEqual(
                campaign.participant_ids.filtered(lambda p: p.state == "completed").res_id,
                self.contacts[4].id,
            )
            self.assertEqual(campaign.running_participant_count, 4)

            # an event after the negative child ran changes nothing for it
            quiet = self.contacts[0]
            frozen.tick(timedelta(days=1))
            set_event(quiet, "open")
            self.assertOutcome(self._traces(children["mail_not_open"], quiet), "run")
            self.assertEqual(
                self._traces(children["mail_open"], quiet).schedule_date,
                self.reference_now + timedelta(days=1, hours=5),
            )

    def test_sms_triggers(self):
        """Every SMS trigger against a click on the SMS link and a bounce
        reported by the SMS provider."""
        campaign = self._create_campaign(domain=[("id", "in", self.contacts[:3].ids)])
        sms = self._create_activity(campaign, "sms")
        children = self._create_children(sms, SMS_OUTCOMES)

        def set_event(record, event):
            if event == "click":
                self.gateway_sms_click(self.mailing_sms, record)
            else:
                self._report_sms_undelivered(self._mailing_trace(self._traces(sms, record)))

        with freeze_time(self.reference_now) as frozen, self.mockSMSGateway():
            self._run_campaign(campaign)
            self._send_queued_sms()
            self.assertTraceStates(self._traces(sms), "processed")
            self._check_outcomes(frozen, campaign, children, SMS_OUTCOMES, SMS_EVENTS, set_event)

        self.assertEqual(
            [
                self._mailing_trace(trace).trace_status
                for trace in self._traces(sms, self.contacts[:3])
            ],
            ["pending", "open", "bounce"],
        )

    # ------------------------------------------------------------
    # BRANCH END
    # ------------------------------------------------------------

    @mute_logger(TRACE_LOGGER)
    def test_no_children_after_failed_parent(self):
        rejected, blacklisted, canceled, sent = self.contacts[:4]
        self.env["mail.blacklist"].create({"email": blacklisted.email})
        campaign = self._create_campaign(domain=[("id", "in", self.contacts[:4].ids)])
        email = self._create_activity(campaign, "email", domain=repr([("id", "!=", rejected.id)]))
        email_children = self._create_children(
            email, ("activity", "mail_open", "mail_not_open", "mail_bounce"), interval_number=0
        )
        failing = self._create_activity(
            campaign,
            "action",
            server_action_id=self.env["ir.actions.server"]
            .sudo()
            .create(
                {
                    "name": "Broken",
                    "model_id": self.partner_model.id,
                    "state": "code",
                    "code": "raise UserError('Tagging is down')",
                }
            )
            .id,
        )
        failing_child = self._create_activity(campaign, "action", parent=failing)
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            campaign.action_start_campaign()
            campaign.sync_participants()
            self._traces(email, canceled).action_cancel()
            campaign.execute_activities()
            self._send_queued_mails()
            for record, state in (
                (rejected, "rejected"),
                (blacklisted, "rejected"),
                (canceled, "canceled"),
                (sent, "processed"),
            ):
                self.assertTraceStates(self._traces(email, record), state)
            self.assertTraceStates(self._traces(failing), "error", "Tagging is down")

            # an event on the message that was not sent changes nothing either
            self._mailing_trace(self._traces(email, blacklisted)).set_opened()
            frozen.tick(timedelta(days=1))
            campaign.execute_activities()

        for trigger, child in email_children.items():
            with self.subTest(trigger=trigger):
                self.assertEqual(self._traces(child).participant_id.mapped("res_id"), sent.ids)
        self.assertFalse(failing_child.trace_ids)
        self.assertEqual(
            campaign.participant_ids.filtered(lambda p: p.state == "running").res_id, sent.id
        )
