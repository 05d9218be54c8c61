import logging
import re
from pathlib import Path

from odoo.tests import HttpCase, tagged

from odoo.addons.web.tests.test_js import unit_test_error_checker

TESTS_DIR = Path(__file__).parent.parent / "static" / "tests"


@tagged("marketing_automation", "post_install", "-at_install")
class TestWorkflowEditorJs(HttpCase):
    """The addon's hoot unit tests (``static/tests/*.test.js``), and only them:
    Odoo's whole suite takes many minutes."""

    def test_hoot_unit_tests(self):
        expected = sum(
            len(re.findall(r"^test\(", path.read_text(), re.MULTILINE))
            for path in TESTS_DIR.glob("*.test.js")
        )
        self.assertGreater(expected, 0)
        passed = []

        class PassedCounter(logging.Handler):
            def emit(self, record):
                match = re.search(r"\[HOOT\] passed (\d+) tests", record.getMessage())
                if match:
                    passed.append(int(match.group(1)))

        # the browser's console, where hoot reports, logs at INFO
        browser_logger = self._logger.getChild("browser")
        counter = PassedCounter(logging.INFO)
        browser_logger.addHandler(counter)
        level = browser_logger.level
        browser_logger.setLevel(logging.INFO)
        try:
            self.browser_js(
                "/web/tests?headless&loglevel=2&preset=desktop&timeout=15000"
                "&filter=%40marketing_automation_community%2F",
                "",
                "",
                login="admin",
                timeout=900,
                success_signal="[HOOT] test suite succeeded",
                error_checker=unit_test_error_checker,
            )
        finally:
            browser_logger.setLevel(level)
            browser_logger.removeHandler(counter)
        self.assertEqual(passed, [expected], "every test of the addon ran, and only them")
