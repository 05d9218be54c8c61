"""Unit tests of the pure functions of ``tools/``: they need no database, so
they run at install (``at_install``) as well as with pytest-odoo."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from odoo.tests import BaseCase, tagged

from ..tools.content import is_mail_body_empty
from ..tools.filter_eval import FilterError, FilterEvaluator
from ..tools.filter_words import describe_domain
from ..tools.split_stats import two_proportion_p_value
from ..tools.timing import next_opening
from .test_execution_record_steps import SCRATCH_BODY

BRUSSELS = ZoneInfo("Europe/Brussels")
NEW_YORK = ZoneInfo("America/New_York")


def translate(source, *args, **kwargs):
    """What ``env._`` does in English."""
    return source % (kwargs or args) if kwargs or args else source


@tagged("marketing_automation", "at_install")
class TestSendWindowClock(BaseCase):
    """The next opening of a window on the recipient's wall clock, across the
    date line and the daylight-saving edges (naive UTC in and out)."""

    def assertOpening(self, due, zone, window, expected):
        self.assertEqual(
            next_opening(due, ZoneInfo(zone) if isinstance(zone, str) else zone, *window), expected
        )

    def test_date_line(self):
        # Monday 2024-11-25 10:00 UTC is Tuesday 00:00 in Kiritimati (+14) and
        # Sunday 23:00 in Pago Pago (-11)
        monday = datetime(2024, 11, 25, 10, 0)
        self.assertOpening(
            monday, "Pacific/Kiritimati", (9, 17, True), datetime(2024, 11, 25, 19, 0)
        )
        self.assertOpening(
            monday, "Pacific/Pago_Pago", (9, 17, True), datetime(2024, 11, 25, 20, 0)
        )
        # Friday 20:00 UTC: Saturday in Kiritimati (to Monday), Friday 09:00 in Pago Pago
        friday = datetime(2024, 11, 29, 20, 0)
        self.assertOpening(
            friday, "Pacific/Kiritimati", (9, 17, True), datetime(2024, 12, 1, 19, 0)
        )
        self.assertOpening(friday, "Pacific/Pago_Pago", (9, 17, True), friday)

    def test_spring_gap(self):
        # Brussels, 2025-03-30: 02:00 CET jumps to 03:00 CEST (01:00 UTC)
        self.assertOpening(
            datetime(2025, 3, 30, 0, 30), BRUSSELS, (2.5, 17, False), datetime(2025, 3, 30, 1, 0)
        )
        self.assertOpening(
            datetime(2025, 3, 29, 12, 0), BRUSSELS, (9, 17, True), datetime(2025, 3, 31, 7, 0)
        )
        # New York, 2025-03-09: 02:00 EST jumps to 03:00 EDT (07:00 UTC)
        self.assertOpening(
            datetime(2025, 3, 9, 6, 30), NEW_YORK, (2.5, 17, False), datetime(2025, 3, 9, 7, 0)
        )
        self.assertOpening(
            datetime(2025, 3, 8, 18, 0), NEW_YORK, (9, 17, True), datetime(2025, 3, 10, 13, 0)
        )

    def test_autumn_overlap(self):
        # Brussels, 2025-10-26: 03:00 CEST goes back to 02:00 CET; 02:30 happens
        # twice, the window opens at the first
        self.assertOpening(
            datetime(2025, 10, 26, 0, 0), BRUSSELS, (2.5, 17, False), datetime(2025, 10, 26, 0, 30)
        )
        self.assertOpening(
            datetime(2025, 10, 25, 12, 0), BRUSSELS, (9, 17, True), datetime(2025, 10, 27, 8, 0)
        )
        # New York, 2025-11-02: 02:00 EDT goes back to 01:00 EST
        self.assertOpening(
            datetime(2025, 11, 2, 5, 0), NEW_YORK, (1.5, 17, False), datetime(2025, 11, 2, 5, 30)
        )
        # due at 01:10 of the second pass: the opening is 01:30 of that pass
        self.assertOpening(
            datetime(2025, 11, 2, 6, 10), NEW_YORK, (1.5, 17, False), datetime(2025, 11, 2, 6, 30)
        )

    def test_weekdays_overnight_and_any_time(self):
        saturday = datetime(2024, 11, 30, 12, 0)
        self.assertOpening(saturday, "UTC", (0, 0, True), datetime(2024, 12, 2, 0, 0))
        self.assertOpening(saturday, "UTC", (0, 0, False), saturday)
        # overnight 22 to 6: noon waits for 22:00, 23:00 and 05:00 are open
        self.assertOpening(saturday, "UTC", (22, 6, False), datetime(2024, 11, 30, 22, 0))
        self.assertOpening(
            datetime(2024, 11, 30, 5, 0), "UTC", (22, 6, False), datetime(2024, 11, 30, 5, 0)
        )

    def test_overnight_weekdays(self):
        """Weekdays only, 22 to 6: the day is the one the window opens, Friday
        night runs until Saturday 6:00, Sunday night does not run."""
        window = (22, 6, True)
        friday_night = datetime(2024, 11, 29, 23, 0)
        self.assertOpening(friday_night, "UTC", window, friday_night)
        saturday_dawn = datetime(2024, 11, 30, 5, 0)
        self.assertOpening(saturday_dawn, "UTC", window, saturday_dawn)
        monday_night = datetime(2024, 12, 2, 22, 0)
        self.assertOpening(datetime(2024, 11, 30, 12, 0), "UTC", window, monday_night)
        self.assertOpening(datetime(2024, 12, 2, 3, 0), "UTC", window, monday_night)
        tuesday_dawn = datetime(2024, 12, 3, 3, 0)
        self.assertOpening(tuesday_dawn, "UTC", window, tuesday_dawn)
        # in Brussels (UTC+1): Friday 23:30 local is open, Monday 02:00 local is not
        self.assertOpening(
            datetime(2024, 11, 29, 22, 30), BRUSSELS, window, datetime(2024, 11, 29, 22, 30)
        )
        self.assertOpening(
            datetime(2024, 12, 2, 1, 0), BRUSSELS, window, datetime(2024, 12, 2, 21, 0)
        )


@tagged("marketing_automation", "at_install")
class TestFilterEvaluator(BaseCase):
    """Filters are values and date helpers, nothing else."""

    def setUp(self):
        super().setUp()
        self.evaluator = FilterEvaluator(
            {"uid": 7}, date(2024, 11, 25), "Europe/Brussels", translate
        )

    def test_values_and_date_helpers(self):
        self.assertEqual(
            self.evaluator.evaluate(
                "[('create_uid', '=', uid), ('create_date', '>=', "
                "(context_today() - relativedelta(days=1)).strftime('%Y-%m-%d'))]"
            ),
            [("create_uid", "=", 7), ("create_date", ">=", "2024-11-24")],
        )
        # the domain editor's local midnight, in UTC
        self.assertEqual(
            self.evaluator.evaluate(
                "[('date', '>=', datetime.datetime.combine(context_today(), "
                "datetime.time(0, 0, 0)).to_utc().strftime('%Y-%m-%d %H:%M:%S'))]"
            ),
            [("date", ">=", "2024-11-24 23:00:00")],
        )

    def test_code_refused(self):
        for source in (
            "().__class__",
            "env['res.users']",
            "[x for x in range(9)]",
            "'a' * 10**9",
            "open('/etc/passwd')",
        ):
            with self.subTest(source=source), self.assertRaises(FilterError):
                self.evaluator.evaluate(source)


@tagged("marketing_automation", "at_install")
class TestFilterWords(BaseCase):
    def test_prefix_notation_in_words(self):
        self.assertEqual(
            describe_domain(
                None,
                [("email", "!=", False), "|", ("name", "ilike", "shop"), "!", ("x", "in", [1, 2])],
                translate,
            ),
            "email is set and (name contains “shop” or not (x is in 1, 2))",
        )
        self.assertEqual(describe_domain(None, [], translate), "All records")

    def test_deep_filter_described_without_recursion(self):
        domain = ["!"] * 5000 + [("a", "=", 1)]
        self.assertTrue(describe_domain(None, domain, translate).endswith("(a = 1)" + ")" * 4999))


@tagged("marketing_automation", "at_install")
class TestMailBodyEmpty(BaseCase):
    def test_empty_bodies(self):
        self.assertTrue(is_mail_body_empty(SCRATCH_BODY))
        self.assertTrue(is_mail_body_empty("<div><style>p {color: red}</style><p> </p></div>"))
        self.assertFalse(is_mail_body_empty("<div><table><tr><td>Hi</td></tr></table></div>"))
        self.assertFalse(is_mail_body_empty('<p><img src="/logo.png"/></p>'))
        self.assertFalse(is_mail_body_empty("<p><t t-out='object.name'/></p>"))


@tagged("marketing_automation", "at_install")
class TestSplitStatistics(BaseCase):
    def test_p_value_textbook_and_minimum(self):
        # Stat Trek, "Hypothesis test for the difference between two proportions":
        # 38 of 100 men, 102 of 200 women; z = -2.13, two-tailed P = 0.034
        self.assertAlmostEqual(two_proportion_p_value(38, 100, 102, 200), 0.034, delta=0.001)
        self.assertAlmostEqual(two_proportion_p_value(102, 200, 38, 100), 0.0334, places=3)
        self.assertEqual(two_proportion_p_value(0, 50, 0, 50), 1.0)
