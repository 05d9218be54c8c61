from lxml import etree

from odoo.exceptions import ValidationError
from odoo.tests import tagged, users
from odoo.tools.safe_eval import safe_eval

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestViewsReports(MarketingAutomationCommon):
    """What the lists, forms and reports show (issue #17): drill-downs that
    name their figure, targets and unicity fields a marketer uses, the traces
    waiting for an event, the campaign of a template, the documented measures."""

    def _search_arch(self, model):
        arch = self.env[model].get_views([(False, "search")])["views"]["search"]["arch"]
        return etree.fromstring(arch)

    def _filter_domain(self, model, name, context):
        node = self._search_arch(model).xpath(f"//filter[@name='{name}']")
        self.assertEqual(len(node), 1, f"{model} has a filter {name}")
        return safe_eval(node[0].get("domain"), {"context": context})

    @users("user_marketing_automation")
    def test_drill_downs_name_their_figure(self):
        """'Opened' opens the opened traces, titled after the figure, with
        its facet and its date; the participants are the same, latest first."""
        campaign = self._create_campaign(name="Drill").with_env(self.env)
        email = self._create_activity(campaign, "email", name="Welcome")
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
        opened = self._traces(email, self.contacts[:2])
        opened.mailing_trace_ids.set_opened()
        statistics = email._read_statistics()[email.id]
        self.assertEqual(statistics["open"], 2)

        action = email.action_view_traces("open")
        self.assertEqual(action["name"], "Opened — Welcome")
        self.assertEqual(action["context"]["search_default_open"], 1)
        self.assertNotIn("mailing_trace_ids", str(action["domain"]), "the figure is a facet")
        facet = self._filter_domain("marketing.trace", "open", action["context"])
        traces = self.env["marketing.trace"].search(action["domain"] + facet)
        self.assertEqual(traces, opened)
        self.assertTrue(all(traces.mapped("open_datetime")))
        list_arch = self.env["marketing.trace"].get_views([(False, "list")])["views"]["list"]
        column = etree.fromstring(list_arch["arch"]).xpath("//field[@name='open_datetime']")[0]
        invisible = column.get("column_invisible")
        self.assertFalse(safe_eval(invisible, {"context": action["context"]}))
        self.assertTrue(
            safe_eval(invisible, {"context": email.action_view_traces("sent")["context"]})
        )

        for measure in email._get_measures():
            with self.subTest(measure=measure):
                for method, model in (
                    ("action_view_traces", "marketing.trace"),
                    ("action_view_participants", "marketing.participant"),
                ):
                    action = getattr(email, method)(measure)
                    name = next(
                        key[len("search_default_") :]
                        for key in action["context"]
                        if key.startswith("search_default_")
                    )
                    facet = self._filter_domain(model, name, action["context"])
                    self.assertEqual(
                        self.env[model].search_count(action["domain"] + facet),
                        statistics[measure],
                    )

        action = email.action_view_participants("open")
        self.assertEqual(action["name"], "Opened — Welcome: participants")
        facet = self._filter_domain("marketing.participant", "measure_open", action["context"])
        participants = self.env["marketing.participant"].search(action["domain"] + facet)
        self.assertEqual(participants, opened.participant_id)
        list_arch = self.env["marketing.participant"].get_views([(False, "list")])["views"]
        self.assertEqual(
            etree.fromstring(list_arch["list"]["arch"]).get("default_order"),
            "start_date desc, id desc",
        )

    @users("user_marketing_automation")
    def test_target_and_unicity_choices(self):
        """Target offers models whose records a campaign reaches, Unique per
        offers the fields that tell people apart; a campaign that already
        targets another model keeps it."""
        Campaign = self.env["marketing.campaign"]
        offered = self.env["ir.model"].search(Campaign._get_model_id_domain()).mapped("model")
        self.assertIn("res.partner", offered)
        self.assertIn("mailing.contact", offered)
        for model in (
            "phone.blacklist",
            "mailing.list",
            "calendar.event",
            "crm.team",
            "crm.team.member",
        ):
            self.assertNotIn(model, offered)

        campaign = self._create_campaign(name="Unique").with_env(self.env)
        fields_domain = safe_eval(
            Campaign._fields["unique_field_id"].domain, {"model_id": self.partner_model.id}
        )
        offered_fields = self.env["ir.model.fields"].search(fields_domain).mapped("name")
        for name in ("email", "email_normalized", "phone", "mobile", "name", "parent_id"):
            self.assertIn(name, offered_fields)
        for name in ("color", "barcode", "id", "category_id", "ref"):
            self.assertNotIn(name, offered_fields)
        for name in ("color", "barcode"):
            with self.subTest(field=name), self.assertRaises(ValidationError):
                campaign.unique_field_id = self.env["ir.model.fields"]._get("res.partner", name)
        campaign.unique_field_id = self.env["ir.model.fields"]._get("res.partner", "mobile")

    def test_existing_target_stays_valid(self):
        blacklist = self.env["ir.model"]._get("phone.blacklist")
        campaign = self._create_campaign(name="Legacy", model_id=blacklist.id, domain=[])
        self.assertNotIn(blacklist, self.env["ir.model"].search(campaign._get_model_id_domain()))
        campaign.name = "Legacy, renamed"
        self.assertEqual(campaign.model_name, "phone.blacklist")

    def test_waiting_traces_say_what_for(self):
        campaign = self._create_campaign()
        email = self._create_activity(campaign, "email")
        clicked = self._create_activity(campaign, "action", parent=email, trigger_type="mail_click")
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
        waiting = self._traces(clicked)
        self.assertEqual(set(waiting.mapped("state")), {"scheduled"})
        self.assertFalse(any(waiting.mapped("schedule_date")))
        self.assertEqual(set(waiting.mapped("waiting_for")), {"Waiting for: Clicked"})
        self.assertFalse(any(self._traces(email).mapped("waiting_for")))
        arch = self.env["marketing.trace"].get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertTrue(etree.fromstring(arch).xpath("//field[@name='waiting_for']"))

    def test_template_form_names_its_campaign(self):
        campaign = self._create_campaign(name="Newsletter flow")
        email = self._create_activity(campaign, "email", name="First issue")
        mailing = email.mass_mailing_id.with_user(self.user_marketing_automation)
        self.assertEqual(mailing.marketing_activity_id, email)
        self.assertEqual(mailing.marketing_campaign_id, campaign)
        arch = mailing.get_views([(False, "form")])["views"]["form"]["arch"]
        form = etree.fromstring(arch)
        for name in ("marketing_campaign_id", "marketing_activity_id"):
            self.assertTrue(form.xpath(f"//div[hasclass('alert')]//field[@name='{name}']"))

    def test_report_measures(self):
        """The measures the documentation names: Number of Clicks, Document
        ID and Record ID (distinct records)."""
        campaign = self._create_campaign()
        email = self._create_activity(campaign, "email")
        self._create_activity(campaign, "action", parent=email)
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
        campaign.execute_activities()
        self._traces(email, self.contacts[:1]).mailing_trace_ids.set_clicked()

        Trace = self.env["marketing.trace"]
        self.assertEqual(
            Trace.fields_get(["document_count"])["document_count"]["string"], "Document ID"
        )
        [(count, documents)] = Trace._read_group(
            [("campaign_id", "=", campaign.id)], [], ["__count", "document_count:count_distinct"]
        )
        self.assertEqual((count, documents), (6, 3))
        Participant = self.env["marketing.participant"]
        self.assertEqual(
            Participant.fields_get(["record_count"])["record_count"]["string"], "Record ID"
        )
        [(records,)] = Participant._read_group(
            [("campaign_id", "=", campaign.id)], [], ["record_count:count_distinct"]
        )
        self.assertEqual(records, 3)
        Report = self.env["marketing.link.click.report"]
        self.assertEqual(
            Report.fields_get(["click_count"])["click_count"]["string"], "Number of Clicks"
        )
        for view_type in ("graph", "pivot"):
            arch = Report.get_views([(False, view_type)])["views"][view_type]["arch"]
            self.assertTrue(
                etree.fromstring(arch).xpath("//field[@name='click_count'][@type='measure']")
            )
        # the reports offer as measures the numbers with an aggregate among the
        # fields of the search view (all of them)
        for model, name in (
            ("marketing.trace", "document_count"),
            ("marketing.participant", "record_count"),
            ("marketing.link.click.report", "click_count"),
        ):
            views = self.env[model].get_views([(False, "search")])
            self.assertTrue(views["models"][model]["fields"][name]["aggregator"])
