import ast
import html
import re
from datetime import timedelta

from freezegun import freeze_time

from odoo.tests import HttpCase, tagged

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestForgedClicks(MarketingAutomationCommon, HttpCase):
    """Issue #15, items 5 and 8, through Odoo's public routes: a click
    confirms a Double Opt-in only from the signed link its recipient
    received; the unsubscribe link of a campaign email to mailing contacts
    opts them out of the lists."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.newsletter = cls.env["mailing.list"].create({"name": "Newsletter readers"})
        cls.readers = cls.env["mailing.contact"].create(
            [
                {
                    "name": f"Reader {index}",
                    "email": f"reader.{index}@example.com",
                    "list_ids": [cls.newsletter.id],
                }
                for index in range(3)
            ]
        )
        # a link of another mailing, as a recipient of that mailing knows it
        cls.other_link = cls.env["link.tracker"].create(
            {
                "url": "https://www.example.com/other",
                "title": "Other",
                "mass_mailing_id": cls.mailing_email.id,
            }
        )

    def _run_double_opt_in(self, frozen):
        """The Double Opt-in campaign on the readers, its confirmation sent:
        return the confirmation traces, the *Add to list* traces waiting for a
        click and the *Confirmed contacts* list."""
        Campaign = self.env["marketing.campaign"].with_user(self.user_marketing_automation)
        action = Campaign.action_create_campaign_from_template("double_opt_in")
        campaign = Campaign.browse(action["res_id"])
        campaign.domain = repr([*ast.literal_eval(campaign.domain), ("id", "in", self.readers.ids)])
        confirmation = campaign.marketing_activity_ids.filtered(lambda a: not a.parent_id)
        add_to_list = confirmation.child_ids
        self.assertEqual(add_to_list.trigger_type, "mail_click")
        with self.mock_mail_gateway():
            self._start(campaign)
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            self._send_queued_mails()
        traces = self._traces(confirmation, self.readers)
        self.assertTraceStates(traces, "processed")
        waiting = self._traces(add_to_list, self.readers)
        self.assertTraceStates(waiting, "scheduled")
        confirmed = self.env["mailing.list"].search([("name", "=", "Confirmed contacts")])
        self.assertEqual(len(confirmed), 1)
        return campaign, traces, waiting, confirmed

    def _links(self, reader):
        """The links (path and query) of the email sent to ``reader``."""
        sent = [m for m in self._mails if any(reader.email in to for to in m["email_to"])]
        self.assertEqual(len(sent), 1)
        return [
            html.unescape(path)
            for path in re.findall(r'href="https?://[^/"]+(/[^"]*)"', sent[0]["body"])
        ]

    def _get(self, path):
        self.env.flush_all()
        response = self.url_open(path, allow_redirects=False)
        self.env.invalidate_all()
        return response

    def test_forged_clicks_confirm_nothing(self):
        with freeze_time(self.reference_now) as frozen:
            self._check_forged_clicks(frozen)

    def _check_forged_clicks(self, frozen):
        campaign, traces, waiting, confirmed = self._run_double_opt_in(frozen)
        mailing_trace = self._mailing_trace(traces[0])
        [click_link] = [link for link in self._links(self.readers[0]) if link.startswith("/r/")]
        code = re.match(r"/r/(\w+)/m/", click_link).group(1)
        self.assertIn(f"/m/{mailing_trace.id}?hash_token=", click_link)

        forged = {
            "link of another mailing": f"/r/{self.other_link.code}/m/{mailing_trace.id}",
            "no signature": f"/r/{code}/m/{mailing_trace.id}",
            "wrong signature": f"/r/{code}/m/{mailing_trace.id}?hash_token=0123abcd",
            "another reader's message": re.sub(
                r"/m/\d+", f"/m/{self._mailing_trace(traces[1]).id}", click_link
            ),
        }
        for label, path in forged.items():
            with self.subTest(label):
                response = self._get(path)
                self.assertEqual(response.status_code, 301, "redirected as any click")
        self.assertFalse(traces.mailing_trace_ids.filtered("links_click_datetime"))
        self.assertFalse(any(waiting.mapped("schedule_date")))
        campaign.execute_activities()
        self.assertTraceStates(waiting, "scheduled")
        self.assertFalse(self.readers & confirmed.contact_ids)

        # the recipient's own link counts
        self.assertEqual(self._get(click_link).status_code, 301)
        self.assertTrue(mailing_trace.links_click_datetime)
        self.assertTrue(waiting[0].schedule_date)
        self.assertFalse(any(waiting[1:].mapped("schedule_date")))
        campaign.execute_activities()
        self.assertTraceStates(waiting[0], "processed")
        self.assertEqual(self.readers & confirmed.contact_ids, self.readers[0])

    def test_unsubscribe_link_opts_out_of_lists(self):
        with freeze_time(self.reference_now) as frozen:
            self._run_double_opt_in(frozen)
        [unsubscribe] = [link for link in self._links(self.readers[1]) if "/unsubscribe" in link]
        response = self._get(unsubscribe)
        self.assertEqual(response.status_code, 200)
        subscription = self.readers[1].subscription_ids
        self.assertEqual(subscription.list_id, self.newsletter)
        self.assertTrue(subscription.opt_out)
        self.assertFalse(self.readers[1].is_blacklisted)
        self.assertFalse(self.readers[0].subscription_ids.opt_out)
