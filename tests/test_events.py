from datetime import timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .test_scheduling_triggers import EVENT_TRIGGERS, TriggerCase


@tagged("marketing_automation", "post_install", "-at_install")
class TestEvents(TriggerCase):
    """The events of a campaign's message as they really arrive (the tracking
    pixel, a tracked link, a reply or a bounce through the mail gateway): each
    fires the children waiting for it, once, and only for a real event."""

    def test_mail_events_through_gateway(self):
        """The tracking pixel, a tracked link, a reply and a bounce coming in
        through the mail gateway all fire their children."""
        # replies reach Odoo through an alias
        self.mailing_email.reply_to = (
            self.env["mail.alias"]
            .sudo()
            .create(
                {
                    "alias_name": "offers",
                    "alias_model_id": self.partner_model.id,
                    "alias_domain_id": self.mail_alias_domain.id,
                }
            )
            .alias_full_name
        )
        campaign = self._create_campaign()
        email = self._create_activity(campaign, "email")
        children = self._create_children(
            email, ("mail_open", "mail_click", "mail_reply", "mail_bounce", "mail_not_open")
        )
        opener, clicker, replier, bouncer, quiet = self.contacts
        # the children that get a date, per contact
        fired = {
            opener: ("mail_open",),
            clicker: ("mail_open", "mail_click"),
            replier: ("mail_open", "mail_reply"),
            bouncer: ("mail_bounce",),
            quiet: ("mail_not_open",),
        }
        start = self.reference_now
        with freeze_time(start) as frozen, self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
            frozen.tick(timedelta(hours=1))
            self._open_email(opener)
            self._click_email_link(clicker, "Our offer")
            self._reply_to_email(replier)
            self._bounce_email(bouncer)

            statuses = {
                contact: self._mailing_trace(self._traces(email, contact)).trace_status
                for contact in self.contacts
            }
            self.assertEqual(
                statuses,
                {
                    opener: "open",
                    clicker: "open",
                    replier: "reply",
                    bouncer: "bounce",
                    quiet: "sent",
                },
            )
            for contact, triggers in fired.items():
                for trigger, child in children.items():
                    with self.subTest(contact=contact.name, trigger=trigger):
                        trace = self._traces(child, contact)
                        if trigger in triggers:
                            self.assertTraceStates(trace, "scheduled")
                            self.assertEqual(
                                trace.schedule_date,
                                start + timedelta(hours=3 if trigger in EVENT_TRIGGERS else 2),
                            )
                        elif (
                            trigger == "mail_not_open"
                            or contact == bouncer
                            or (contact in (replier, clicker) and trigger == "mail_bounce")
                        ):
                            self.assertTraceStates(trace, "canceled")
                        else:
                            self.assertOutcome(trace, "wait")

            frozen.tick(timedelta(hours=2))
            campaign.execute_activities()
            for contact, triggers in fired.items():
                for trigger in triggers:
                    with self.subTest(contact=contact.name, trigger=trigger):
                        self.assertOutcome(self._traces(children[trigger], contact), "run")

    def test_only_first_event_counts(self):
        campaign = self._create_campaign(domain=[("id", "=", self.contacts[0].id)])
        email = self._create_activity(campaign, "email")
        children = self._create_children(email, ("mail_open", "mail_click", "mail_reply"))
        contact = self.contacts[0]
        start = self.reference_now
        with freeze_time(start) as frozen, self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
            mailing_trace = self._mailing_trace(self._traces(email, contact))

            frozen.tick(timedelta(minutes=30))
            self._open_email(contact)
            frozen.tick(timedelta(minutes=30))
            self._open_email(contact)
            self._click_email_link(contact, "Our offer")
            mailing_trace.set_replied()
            frozen.tick(timedelta(minutes=30))
            self._click_email_link(contact, "Our offer")
            mailing_trace.set_replied()
            self.assertEqual(
                mailing_trace.links_click_datetime, start + timedelta(hours=1, minutes=30)
            )
            self.assertEqual(mailing_trace.reply_datetime, start + timedelta(hours=1, minutes=30))
            # each child kept the date of its first event
            first_events = {
                "mail_open": start + timedelta(minutes=30),
                "mail_click": start + timedelta(hours=1),
                "mail_reply": start + timedelta(hours=1),
            }
            for trigger, first_event in first_events.items():
                with self.subTest(trigger=trigger):
                    trace = self._traces(children[trigger])
                    self.assertEqual(len(trace), 1)
                    self.assertEqual(trace.schedule_date, first_event + timedelta(hours=2))

            frozen.tick(timedelta(hours=2))
            campaign.execute_activities()
            traces = email.trace_ids.child_ids
            self.assertEqual(traces.activity_id, email.child_ids)
            self.assertTraceStates(traces, "processed")
            self.assertEqual(self._participant(campaign, contact).state, "completed")

            # later events create no other child
            frozen.tick(timedelta(hours=1))
            self._click_email_link(contact, "Our offer")
            mailing_trace.set_replied()
            campaign.execute_activities()
            self.assertEqual(campaign.participant_ids.trace_ids, email.trace_ids + traces)
            self.assertTraceStates(traces, "processed")
            self.assertEqual(self._participant(campaign, contact).state, "completed")

    def test_unsubscribe_link_is_not_a_click(self):
        self.mailing_email.body_html = (
            "<p>Hello, <a href='https://www.example.com/offer'>Our offer</a></p>"
            "<p><a href='/unsubscribe_from_list'>Unsubscribe</a></p>"
        )
        campaign = self._create_campaign(domain=[("id", "in", self.contacts[:2].ids)])
        email = self._create_activity(campaign, "email")
        children = self._create_children(email, ("mail_click", "mail_not_click"))
        unsubscriber, clicker = self.contacts[:2]
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()

            links = self._email_links(unsubscriber)
            self.assertIn("/r/", links["Our offer"])
            self.assertIn(f"/mailing/{self.mailing_email.id}/unsubscribe?", links["Unsubscribe"])
            self.assertNotIn("/r/", links["Unsubscribe"])
            self.assertEqual(
                self.env["link.tracker"]
                .search([("mass_mailing_id", "=", self.mailing_email.id)])
                .mapped("url"),
                ["https://www.example.com/offer"],
                "the unsubscribe link is not tracked",
            )

            frozen.tick(timedelta(hours=1))
            # the unsubscribe page blacklists the recipient, nothing more
            self.env["mail.blacklist"].sudo()._add(unsubscriber.email)
            self._click_email_link(clicker, "Our offer")
            self.assertFalse(
                self._mailing_trace(self._traces(email, unsubscriber)).links_click_datetime
            )
            frozen.tick(timedelta(hours=2))
            campaign.execute_activities()

        self.assertOutcome(self._traces(children["mail_click"], unsubscriber), "wait")
        self.assertOutcome(self._traces(children["mail_not_click"], unsubscriber), "run")
        self.assertOutcome(self._traces(children["mail_click"], clicker), "run")
        self.assertOutcome(self._traces(children["mail_not_click"], clicker), "clicked")
