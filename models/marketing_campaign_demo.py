try:
    import phonenumbers
except ImportError:
    # optional, as for phone_validation
    phonenumbers = None

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)


class MarketingCampaign(models.Model):
    _inherit = "marketing.campaign"

    @api.model
    def _demo_create_campaigns(self):
        """Demo data (called from ``demo/marketing_campaign_demo.xml``).

        Creates the *Double Opt-in* and *Welcome Flow* campaigns from their
        blueprints, and makes the demo campaign *Welcome new contacts* look like
        it has been running for two weeks, entirely through the engine: the
        administrator (its responsible) starts it and enrols the demo contacts;
        the engine sends the welcome email and SMS (one blacklisted contact is
        rejected); recipients open, click (through the tracked link, as the
        link controller does), reply and bounce, which is how the engine
        receives events; the engine then runs the clicked branch and the
        "not opened" reminders. Its A/B split sends each contact one of two
        offers, and more of offer A's recipients click. One SMS is marked
        failed, as the SMS provider would have it.

        Data files cannot move the clock, so every date of these participants,
        traces, mails and clicks is then shifted back in SQL by four to
        fourteen days per participant (a child by less, after its delay): the
        15-day graphs start filled on the install date. The emails and SMS are
        marked sent and removed from the outgoing queues: nothing leaves the
        database.
        """
        admin = self.env.ref("base.user_admin")
        campaigns = self.with_user(admin)
        for key in ("double_opt_in", "welcome"):
            campaigns._create_campaign_from_blueprint(key)
        campaign = self.env.ref("marketing_automation_community.demo_campaign_welcome").with_user(
            admin
        )
        campaign.action_start_campaign()
        campaign.sync_participants()
        participants = campaign.participant_ids.sorted("res_id")
        contacts = self.env["res.partner"].browse(participants.mapped("res_id"))
        self.env["mail.blacklist"]._add(
            contacts[-1].email, message=self.env._("Asked not to receive our emails.")
        )
        self._demo_set_valid_mobiles(contacts)
        campaign._demo_run_due_traces()

        welcome = self.env.ref("marketing_automation_community.demo_activity_welcome")
        mailing_traces = campaign._demo_mailing_traces(welcome)
        mailing_traces.set_sent()
        trackers = self.env["link.tracker"].search(
            [("mass_mailing_id", "=", welcome.mass_mailing_id.id)], limit=1
        )
        for index, mailing_trace in enumerate(mailing_traces):
            if index % 6 == 1:
                mailing_trace.set_bounced(bounce_message="550 5.1.1 Mailbox unavailable")
            elif index % 3 == 0:
                # sudo: as the public click route records a click (demo data, at install)
                self.env["link.tracker.click"].sudo().add_click(
                    trackers.code,
                    ip=f"198.51.100.{index + 1}",
                    country_code="BE",
                    mailing_trace_id=mailing_trace.id,
                )
            elif index % 4 == 2:
                mailing_trace.set_replied()
            elif index % 2 == 0:
                mailing_trace.set_opened()
        campaign._demo_split_events()
        sms = self.env.ref("marketing_automation_community.demo_activity_sms")
        sms_traces = campaign._demo_mailing_traces(sms)
        sms_traces.set_sent()
        sms_traces[:1].set_clicked()
        failed_sms = sms_traces.filtered(lambda t: t.trace_status == "sent")[-1:]
        failed_sms.set_failed(failure_type="sms_server")
        failed_sms.marketing_trace_id._set_state(
            "error", _lt("The SMS provider did not answer: the SMS was not sent.")
        )
        campaign._demo_run_due_traces()
        reminder = self.env.ref("marketing_automation_community.demo_activity_reminder")
        campaign._demo_mailing_traces(reminder).set_sent()
        campaign._demo_clear_queues()
        campaign._demo_shift_dates(participants)

    @api.model
    def _demo_set_valid_mobiles(self, contacts):
        """Base's demo contacts have made-up numbers that Odoo's format check
        refuses, so that their SMS would be rejected: those without a valid
        number get a mobile number valid in their country (the phone
        library's example number, made distinct per contact)."""
        if not phonenumbers:
            # without the library, Odoo checks no number's format
            return
        default_region = self.env.company.country_id.code or "US"
        used = set()
        for contact in contacts:
            if contact._phone_format(fname="mobile") or contact._phone_format(fname="phone"):
                continue
            region = contact.country_id.code or default_region
            example = phonenumbers.example_number_for_type(
                region, phonenumbers.PhoneNumberType.MOBILE
            )
            if not example:
                continue
            for step in range(1, 100):
                candidate = phonenumbers.PhoneNumber(
                    country_code=example.country_code,
                    national_number=example.national_number + step,
                )
                number = phonenumbers.format_number(
                    candidate, phonenumbers.PhoneNumberFormat.INTERNATIONAL
                )
                if number not in used and phonenumbers.is_valid_number(candidate):
                    used.add(number)
                    contact.mobile = number
                    break

    def _demo_split_events(self):
        """The recipients of the two offers of the A/B split open and click:
        one in two of offer A clicks, one in four of offer B, so that the
        split's results compare them."""
        self.ensure_one()
        for xmlid, click_every in (("demo_activity_offer_a", 2), ("demo_activity_offer_b", 4)):
            branch = self.env.ref(f"marketing_automation_community.{xmlid}")
            mailing_traces = self._demo_mailing_traces(branch)
            mailing_traces.set_sent()
            tracker = self.env["link.tracker"].search(
                [("mass_mailing_id", "=", branch.mass_mailing_id.id)], limit=1
            )
            for index, mailing_trace in enumerate(mailing_traces):
                if index % click_every == 0:
                    # sudo: the click a recipient makes through the tracked
                    # link, recorded as the public link controller does
                    self.env["link.tracker.click"].sudo().add_click(
                        tracker.code,
                        ip=f"203.0.113.{index + 1}",
                        country_code="BE",
                        mailing_trace_id=mailing_trace.id,
                    )
                elif index % 3 != 2:
                    mailing_trace.set_opened()

    def _demo_run_due_traces(self):
        """Run what is scheduled with a date now, as if its time had come."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE marketing_trace
                   SET schedule_date = %(now)s
                 WHERE campaign_id = %(campaign_id)s
                   AND state = 'scheduled'
                   AND schedule_date IS NOT NULL
                """,
                now=fields.Datetime.now(),
                campaign_id=self.id,
            )
        )
        self.env.invalidate_all()
        self.execute_activities()

    def _demo_mailing_traces(self, activity):
        """The emails or SMS that the activity queued, by record."""
        return (
            self.env["mailing.trace"]
            .search(
                [("marketing_activity_id", "=", activity.id), ("trace_status", "=", "outgoing")]
            )
            .sorted("res_id")
        )

    def _demo_clear_queues(self):
        """The demo emails and SMS count as delivered: drop them from the queues."""
        mailings = self.marketing_activity_ids.mass_mailing_id
        # sudo: the queues are technical records of the mail and SMS apps
        self.env["mail.mail"].sudo().search([("mailing_id", "in", mailings.ids)]).unlink()
        self.env["sms.sms"].sudo().search([("mailing_id", "in", mailings.ids)]).unlink()

    def _demo_shift_dates(self, participants):
        """Move the dates of ``participants``, their traces, mails and clicks
        back by 4 to 14 days (one offset per participant); a child trace moves
        by its delay less, so that it stays after its parent."""
        self.ensure_one()
        self.env.flush_all()
        offsets = {participant.id: 4 + index % 11 for index, participant in enumerate(participants)}
        values = SQL(", ").join(
            SQL("(%s, %s)", participant_id, days) for participant_id, days in offsets.items()
        )
        shift = SQL("make_interval(days => shift.days)")
        self.env.cr.execute(
            SQL(
                """
                WITH shift(participant_id, days) AS (VALUES %(values)s)
                UPDATE marketing_participant participant
                   SET start_date = participant.start_date - %(shift)s,
                       create_date = participant.create_date - %(shift)s,
                       write_date = participant.write_date - %(shift)s
                  FROM shift
                 WHERE participant.id = shift.participant_id
                """,
                values=values,
                shift=shift,
            )
        )
        trace_shift = SQL(
            "(%s - CASE WHEN trace.parent_id IS NULL THEN interval '0' "
            "ELSE make_interval(hours => activity.interval_standardized) END)",
            shift,
        )
        self.env.cr.execute(
            SQL(
                """
                CREATE TEMPORARY TABLE marketing_demo_shift ON COMMIT DROP AS
                WITH shift(participant_id, days) AS (VALUES %(values)s)
                SELECT trace.id AS trace_id, %(trace_shift)s AS delta
                  FROM marketing_trace trace
                  JOIN marketing_activity activity ON activity.id = trace.activity_id
                  JOIN shift ON shift.participant_id = trace.participant_id
                """,
                values=values,
                trace_shift=trace_shift,
            )
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE marketing_trace trace
                   SET schedule_date = trace.schedule_date - shift.delta,
                       create_date = trace.create_date - shift.delta,
                       write_date = trace.write_date - shift.delta
                  FROM marketing_demo_shift shift
                 WHERE trace.id = shift.trace_id;

                UPDATE mailing_trace mailing_trace
                   SET create_date = mailing_trace.create_date - shift.delta,
                       write_date = mailing_trace.write_date - shift.delta,
                       sent_datetime = mailing_trace.sent_datetime - shift.delta,
                       open_datetime = mailing_trace.open_datetime - shift.delta,
                       reply_datetime = mailing_trace.reply_datetime - shift.delta,
                       links_click_datetime = mailing_trace.links_click_datetime - shift.delta
                  FROM marketing_demo_shift shift
                 WHERE mailing_trace.marketing_trace_id = shift.trace_id;

                UPDATE link_tracker_click click
                   SET create_date = click.create_date - shift.delta,
                       write_date = click.write_date - shift.delta
                  FROM mailing_trace mailing_trace
                  JOIN marketing_demo_shift shift
                    ON shift.trace_id = mailing_trace.marketing_trace_id
                 WHERE click.mailing_trace_id = mailing_trace.id;

                DROP TABLE marketing_demo_shift;
                """
            )
        )
        # sudo: the date of the last enrolment is the engine's, which the demo replays
        self.sudo().last_sync_date = fields.Datetime.now()
        self.env.invalidate_all()
