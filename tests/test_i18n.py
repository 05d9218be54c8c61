import io
import re
from pathlib import Path

import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import trans_export

from .common import MarketingAutomationCommon

MODULE = "marketing_automation_community"
LANGUAGES = {"de": "de_DE", "fr": "fr_FR", "it": "it_IT", "vi": "vi_VN"}
# what a translation must carry over unchanged
PLACEHOLDER = re.compile(
    r"%\([a-z_]+\)[sd]|%[sd]|\{\{.*?\}\}|\{[a-z_]*\}|</?[a-zA-Z][\w.-]*|t-out=\"[^\"]*\""
)


@tagged("marketing_automation", "post_install", "-at_install")
class TestTranslations(TransactionCase):
    """The template matches the code, each language translates every term
    without breaking a placeholder, and the app reads in each language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.i18n = Path(get_module_path(MODULE)) / "i18n"
        cls.template = polib.pofile(str(cls.i18n / f"{MODULE}.pot"))
        cls.msgids = {entry.msgid for entry in cls.template if entry.msgid}

    def _po(self, lang):
        path = self.i18n / f"{lang}.po"
        self.assertTrue(path.exists(), f"{path.name} is missing")
        return polib.pofile(str(path))

    def test_template_matches_the_code(self):
        buffer = io.BytesIO()
        trans_export(False, [MODULE], buffer, "po", self.env.cr)
        exported = {
            entry.msgid for entry in polib.pofile(buffer.getvalue().decode()) if entry.msgid
        }
        self.assertFalse(
            sorted(exported - self.msgids)[:10],
            "terms of the code missing from the .pot: export it again (README, Translations)",
        )
        self.assertFalse(
            sorted(self.msgids - exported)[:10], "terms of the .pot gone from the code"
        )

    def test_languages_complete_and_placeholders_intact(self):
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                translations = {entry.msgid: entry for entry in self._po(lang)}
                missing = [
                    msgid
                    for msgid in self.msgids
                    if msgid not in translations
                    or not translations[msgid].msgstr
                    or "fuzzy" in translations[msgid].flags
                ]
                self.assertFalse(missing[:10], f"{lang}.po: terms not translated")
                broken = [
                    msgid
                    for msgid in self.msgids
                    if sorted(PLACEHOLDER.findall(msgid))
                    != sorted(PLACEHOLDER.findall(translations[msgid].msgstr))
                ]
                self.assertFalse(broken[:10], f"{lang}.po: placeholders changed")

    def test_states_and_events_told_apart(self):
        """In each language the states of a trace and the events of a message
        read differently: "Bounced" is not "Rejected" (French once said
        "Rejeté", Odoo's word for rejected, beside "Refusé")."""
        trace_states = [
            label for __, label in self.env["marketing.trace"]._fields["state"].selection
        ]
        labels = [*trace_states, "Bounced", "Opened", "Clicked", "Replied"]
        self.assertEqual(len(set(labels)), len(labels))
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                translations = {entry.msgid: entry.msgstr for entry in self._po(lang)}
                translated = [translations[label].casefold() for label in labels]
                self.assertEqual(
                    len(set(translated)), len(labels), dict(zip(labels, translated, strict=True))
                )
                # nor is "Bounced" what Odoo itself calls "Rejected" in this language
                odoo_rejected = {
                    entry.msgstr.casefold()
                    for entry in polib.pofile(
                        str(Path(get_module_path("mass_mailing_sms")) / "i18n" / f"{lang}.po")
                    )
                    if entry.msgid == "Rejected" and entry.msgstr
                }
                self.assertNotIn(translations["Bounced"].casefold(), odoo_rejected)

    def test_campaign_form_in_each_language(self):
        for lang, code in LANGUAGES.items():
            with self.subTest(lang=lang):
                self.env["res.lang"]._activate_lang(code)
                self.env["ir.module.module"]._load_module_terms([MODULE], [code], overwrite=True)
                translations = {entry.msgid: entry.msgstr for entry in self._po(lang)}
                Campaign = self.env["marketing.campaign"].with_context(lang=code)
                arch = Campaign.get_view(view_type="form")["arch"]
                self.assertIn(translations["Launch a Test"], arch)
                self.assertEqual(
                    Campaign.fields_get(["unique_field_id"])["unique_field_id"]["string"],
                    translations["Unique per"],
                )
                self.assertEqual(
                    Campaign.with_context(lang=code).env._(
                        "Choose the record to test the campaign with."
                    ),
                    translations["Choose the record to test the campaign with."],
                )


@tagged("marketing_automation", "post_install", "-at_install")
class TestTranslatedCopy(MarketingAutomationCommon):
    """A copy is named with Odoo's translated suffix, without a warning of the
    translation lookup (the term is looked up in the right module)."""

    def test_copy_translates_without_warning(self):
        campaign = self._create_campaign(name="Original")
        with self.assertNoLogs("odoo.tools.translate", "WARNING"):
            copy = campaign.with_user(self.user_marketing_automation).copy()
        self.assertEqual(copy.name, "Original (copy)")
        self.assertEqual(copy.user_id, self.user_marketing_automation)
