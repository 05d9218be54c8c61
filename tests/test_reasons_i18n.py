from odoo.tests import tagged

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestReasonsI18n(MarketingAutomationCommon):
    """The reason of a trace is stored in every active language: each reader
    reads it in his own, whoever ran the step (issue #17)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("fr_FR", "de_DE"):
            cls.env["res.lang"]._activate_lang(code)
        cls.readers = {
            code: cls.user_marketing_automation.copy(
                {"login": f"reason_reader_{code}", "lang": code}
            )
            for code in ("fr_FR", "de_DE")
        }

    def _reason(self, trace, code):
        trace.invalidate_recordset(["state_msg"])
        # a reader's requests carry his language
        return trace.with_user(self.readers[code]).with_context(lang=code).state_msg

    def test_reason_in_each_reader_language(self):
        """An English user cancels a trace: the French reader reads the reason
        in French, the German one in German, the English one in English."""
        campaign = self._create_campaign()
        self._create_activity(campaign, "action", interval_number=2)
        self._start(campaign)
        trace = campaign.participant_ids.trace_ids[:1]
        self.assertEqual(self.env.user.lang, "en_US")
        trace.action_cancel()
        self.assertEqual(trace.state_msg, "Canceled manually.")
        self.assertEqual(self._reason(trace, "fr_FR"), "Annulé manuellement.")
        self.assertEqual(self._reason(trace, "de_DE"), "Manuell abgebrochen.")

    def test_reason_with_a_parameter(self):
        """A reason with a parameter (the archived template) is formatted in
        each language, whoever (here a French user) ran the step."""
        campaign = self._create_campaign()
        email = self._create_activity(campaign, "email")
        email.mass_mailing_id.subject = "Bienvenue"
        runner = self.user_marketing_automation
        runner.lang = "fr_FR"
        self._start(campaign.with_user(runner))
        # archived after Start (which refuses it): the step finds it archived
        email.mass_mailing_id.active = False
        with self.mock_mail_gateway():
            campaign.with_user(runner).execute_activities()
        trace = self._traces(email)[:1]
        self.assertEqual(trace.state, "rejected")
        self.assertEqual(
            self._reason(trace, "fr_FR"), "Non envoyé\xa0: le modèle Bienvenue est archivé."
        )
        self.assertEqual(
            self._reason(trace, "de_DE"), "Nicht gesendet: Die Vorlage Bienvenue ist archiviert."
        )
        trace.invalidate_recordset(["state_msg"])
        self.assertEqual(
            trace.with_context(lang="en_US").state_msg,
            "Not sent: the template Bienvenue is archived.",
        )

    def test_reason_written_in_sql(self):
        """The reasons written in one UPDATE (an event cancels the siblings it
        makes impossible) are stored in every language too."""
        campaign = self._create_campaign()
        email = self._create_activity(campaign, "email")
        not_opened = self._create_activity(
            campaign, "action", parent=email, trigger_type="mail_not_open", interval_number=2
        )
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
        self._traces(email, self.contacts[:1]).mailing_trace_ids.set_opened()
        trace = self._traces(not_opened, self.contacts[:1])
        self.assertEqual(trace.state, "canceled")
        self.assertEqual(trace.state_msg, "Canceled: the parent message was opened.")
        self.assertEqual(
            self._reason(trace, "fr_FR"), "Annulé\xa0: le message parent a été ouvert."
        )
        self.assertEqual(
            self._reason(trace, "de_DE"), "Abgebrochen: Die übergeordnete Nachricht wurde geöffnet."
        )
