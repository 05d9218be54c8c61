import json
import re
from pathlib import Path

from lxml import etree

from odoo import http
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged, users
from odoo.tools.safe_eval import safe_eval

from ..models.marketing_trace import STATE_COLORS
from ..tools.triggers import TRIGGERS
from .common import MarketingAutomationCommon

VOCABULARY_FIXTURE = Path(__file__).parent.parent / "static" / "tests" / "workflow_vocabulary.js"


@tagged("marketing_automation", "post_install", "-at_install")
class TestWorkflowVocabulary(MarketingAutomationCommon):
    """The editor's words, icons, triggers and colours come from the server,
    derived from the trigger table and the selections."""

    @users("user_marketing_automation")
    def test_vocabulary_follows_the_tables(self):
        Activity = self.env["marketing.activity"]
        vocabulary = Activity.get_workflow_vocabulary()
        type_keys = [key for key, _label in Activity._fields["activity_type"].selection]
        self.assertEqual(list(vocabulary["activity_types"]), type_keys)
        self.assertEqual(list(vocabulary["triggers"]), list(TRIGGERS))
        self.assertEqual(list(vocabulary["child_triggers"]), type_keys)
        for parent_type, child_triggers in vocabulary["child_triggers"].items():
            self.assertEqual(
                [key for key, _label in child_triggers],
                [
                    key
                    for key, trigger in TRIGGERS.items()
                    if not trigger.root and trigger.parent_type in (None, parent_type)
                ],
            )
        self.assertEqual(vocabulary["state_colors"], STATE_COLORS)
        # the list of traces draws its state badges with the same colours
        arch = self.env["marketing.trace"].get_views([(False, "list")])["views"]["list"]["arch"]
        for state, color in STATE_COLORS.items():
            self.assertRegex(arch, rf"decoration-{color}=\"state in \[[^\]]*'{state}'")

    @users("user_marketing_automation")
    def test_the_js_tests_use_the_server_vocabulary(self):
        """The hoot tests' vocabulary (static/tests/workflow_vocabulary.js) is
        the server's, so that they test the editor with what it gets."""
        text = VOCABULARY_FIXTURE.read_text()
        fixture = json.loads(re.search(r"= (\{.*\});", text, re.DOTALL).group(1))
        vocabulary = (
            self.env["marketing.activity"].with_context(lang="en_US").get_workflow_vocabulary()
        )
        self.maxDiff = None
        self.assertEqual(
            fixture,
            vocabulary,
            "a trigger, an activity type or a label changed: write the server's vocabulary "
            "into static/tests/workflow_vocabulary.js (and update the hoot tests)",
        )


@tagged("marketing_automation", "post_install", "-at_install")
class TestMeasureDrillDown(MarketingAutomationCommon):
    """A figure of a block opens, from a server action, the traces and the
    participants it counts."""

    def test_figures_open_what_they_count(self):
        campaign = self._create_campaign()
        email = self._create_activity(campaign, "email", name="Welcome")
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
        opened = self._traces(email, self.contacts[0])
        opened.mailing_trace_ids.set_opened()
        self._launch_test(campaign, self.contacts[1])

        email = email.with_user(self.user_marketing_automation)
        statistics = email._read_statistics()[email.id]
        self.assertEqual((statistics["processed"], statistics["open"]), (3, 1))
        for measure in email._get_measures():
            for method, model in (
                ("action_view_traces", "marketing.trace"),
                ("action_view_participants", "marketing.participant"),
            ):
                action = getattr(email, method)(measure)
                self.assertEqual(action["res_model"], model)
                # the figure is the search filter the action selects
                facet = next(
                    key[len("search_default_") :]
                    for key in action["context"]
                    if key.startswith("search_default_")
                )
                search = etree.fromstring(
                    self.env[model].get_views([(False, "search")])["views"]["search"]["arch"]
                )
                [node] = search.xpath(f"//filter[@name='{facet}']")
                domain = safe_eval(node.get("domain"), {"context": action["context"]})
                self.assertEqual(
                    self.env[model]
                    .with_user(self.user_marketing_automation)
                    .search_count(action["domain"] + domain),
                    statistics[measure],
                    f"{method}({measure!r}) lists what the figure counts",
                )
        action = email.action_view_traces("open")
        self.assertEqual(action["name"], "Opened — Welcome")
        self.assertEqual(action["context"]["search_default_open"], 1)
        action = email.action_view_participants("processed")
        self.assertEqual(action["name"], "Success — Welcome: participants")
        with self.assertRaises(UserError):
            email.action_view_traces("is_test")


@tagged("marketing_automation", "post_install", "-at_install")
class TestWorkflowVocabularyUi(MarketingAutomationCommon, HttpCase):
    """What the workflow editor shows is what the server says."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # see test_ui: build the static paths before the browser's parallel requests
        if "marketing_automation_community" not in http.root.statics:
            raise AssertionError("The addon's static folder (tours) is not served.")

    def test_editor_labels_are_the_server_labels(self):
        """Every trigger, each delay unit in the singular and the plural: the
        label of the editor's block is the activity's trigger_label, its type
        the activity type's label."""
        campaign = self._create_campaign()
        parents = {
            activity_type: self._create_activity(
                campaign, activity_type, name=f"parent {activity_type}"
            )
            for activity_type in ("email", "sms", "action")
        }
        units = ["hours", "days", "weeks", "months"]
        for index, (key, trigger) in enumerate(TRIGGERS.items()):
            if trigger.root:
                parent = False
            else:
                parent = parents[trigger.parent_type or "action"]
            # a step relative to a date of the record counts from one of its dates
            date_field = self.env["ir.model.fields"]._get("res.partner", "create_date")
            self._create_activity(
                campaign,
                "action",
                parent=parent or None,
                name=f"trigger {key}",
                trigger_type=key,
                interval_number=1 + index % 2,
                interval_type=units[index % len(units)],
                date_field_id=date_field.id if key == "date" else False,
            )
        type_labels = dict(
            self.env["marketing.activity"]._fields["activity_type"]._description_selection(self.env)
        )
        expected = {
            activity.name: [activity.trigger_label, type_labels[activity.activity_type]]
            for activity in campaign.marketing_activity_ids
        }
        # the child "after another activity", as the Activities list says it
        self.assertRegex(expected["trigger activity"][0], r"^after \d+ (Hour|Day|Week|Month)s?$")
        self.assertEqual(expected["trigger activity"][1], "Server Action")
        code = f"""
            const expected = {json.dumps(expected)};
            const blocks = document.querySelectorAll(".o_ma_activity");
            const shown = Object.fromEntries([...blocks].map((block) => [
                block.dataset.activity,
                [
                    block.querySelector(".o_ma_activity_trigger").textContent.trim(),
                    block.querySelector(".o_ma_activity_type").textContent.trim(),
                ],
            ]));
            if (JSON.stringify(shown, Object.keys(expected).sort())
                    !== JSON.stringify(expected, Object.keys(expected).sort())) {{
                console.error("The editor shows", JSON.stringify(shown),
                    "instead of", JSON.stringify(expected));
            }} else {{
                console.log("test successful");
            }}
        """
        self.browser_js(
            f"/odoo/marketing-automation/{campaign.id}",
            code,
            ready="document.querySelectorAll('.o_ma_activity').length > 0",
            login="user_marketing_automation",
        )
