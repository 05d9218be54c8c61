"""``./dev test``: install the addon in a fresh database, run its tests with pytest-odoo, check
its uninstall, drop the database, and print one closing line.

Each check fails on what would otherwise pass silently: a WARNING in the install log, a failed,
erroring or skipped test (browser tests are skipped without Chromium), an empty run, an ERROR
logged by Odoo during the tests, a model or table left after the uninstall.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .common import COMPANION_MODULES, MODULE, REPO_DIR, SetupError, file_lock, free_port, say
from .logcheck import HARMLESS, WARNINGS, log_is_clean
from .system import ensure_chromium
from .workspace import TEST_IMPORTS, Env, setup

# Models and tables that must disappear when the module is uninstalled.
MODEL_PREFIX = "marketing."
MODULE_TABLES = (
    "marketing_campaign",
    "marketing_activity",
    "marketing_participant",
    "marketing_trace",
)


@dataclass
class Check:
    """The install or the uninstall check: passed or not, and why."""

    name: str
    ok: bool = False
    detail: str = "not run"
    seconds: float = 0.0


@dataclass
class PytestResult:
    """pytest's own count of tests; subtests beside it, never added to it."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    subtests: int = 0
    subtests_failed: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        text = f"{self.passed} passed, {self.failures + self.errors} failed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        if self.subtests_failed:
            text += f" ({self.subtests} subtests, {self.subtests_failed} failed)"
        elif self.subtests:
            text += f" ({self.subtests} subtests passed)"
        return text


def show(title: str, lines: list[str], limit: int = 60) -> None:
    say(title)
    for line in lines[:limit]:
        print(f"  {line}")
    if len(lines) > limit:
        print(f"  ... {len(lines) - limit} more")
    sys.stdout.flush()


# --------------------------------------------------------------------------------------
# install
# --------------------------------------------------------------------------------------


def install(env: Env, config: Path, db_name: str) -> Check:
    """The dependencies and companions come from click-odoo-initdb's cached template; the
    addon itself is installed with Odoo's -i, and its log must hold no WARNING."""
    check = Check("install")
    db = env.database(config)
    started = time.monotonic()
    db.create(db_name, [*env.depends, *COMPANION_MODULES], env.logs / "test-template.log")
    log = env.logs / "test-install.log"
    log.unlink(missing_ok=True)
    say(f"installing {MODULE} and its demo data into {db_name} (log: {log})")
    cmd = env.odoo_cmd(
        config, "-d", db_name, "-i", MODULE, "--stop-after-init", "--no-http",
        f"--logfile={log}", "--log-level=info",
    )  # fmt: skip
    proc = subprocess.run(cmd, env=env.odoo.env())
    check.seconds = time.monotonic() - started
    state, demo = db.module_state(db_name)
    reasons = []
    if proc.returncode:
        reasons.append(f"odoo exited {proc.returncode}")
    if state != "installed":
        reasons.append(f"module state is {state}")
    elif not demo:
        reasons.append("demo data was not loaded")
    for companion in COMPANION_MODULES:
        if db.module_state(db_name, companion)[0] != "installed":
            reasons.append(f"companion module {companion} is not installed")
    if not log_is_clean(env.odoo, log):
        reasons.append("WARNING/ERROR/CRITICAL records in the log (checklog-odoo)")
    check.ok = not reasons
    check.detail = "FAILED: " + "; ".join(reasons) if reasons else "passed (demo data, no warning)"
    say(f"install: {check.detail} ({check.seconds:.0f} s)")
    return check


# --------------------------------------------------------------------------------------
# pytest
# --------------------------------------------------------------------------------------


def test_paths(link: Path, extra: list[str]) -> tuple[list[str], list[str]]:
    """Map test paths given on the command line into the linked addon folder."""
    paths, options = [], []
    for arg in extra:
        if arg.startswith("-"):
            options.append(arg)
            continue
        path_part, sep, rest = arg.partition("::")
        candidate = Path(path_part).expanduser()
        for base in (Path.cwd(), REPO_DIR):
            full = (base / candidate).resolve()
            if full.exists() and full.is_relative_to(link.resolve()):
                paths.append(str(link / full.relative_to(link.resolve())) + sep + rest)
                break
        else:
            options.append(arg)  # an option's value, e.g. "-m expr"
    return paths, options


def junit_result(junit: Path, output: str) -> PytestResult:
    """Count the tests as pytest does: one <testcase> per test. The suite's ``tests``
    attribute also counts each subtest report; the difference is the number of subtests."""
    result = PytestResult()
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        result.problems.append(f"pytest wrote no report ({junit})")
        return result
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    reports = sum(int(suite.get("tests", 0)) for suite in suites)
    skips = []
    for case in root.iter("testcase"):
        result.tests += 1
        if case.find("failure") is not None:
            result.failures += 1
        elif case.find("error") is not None:
            result.errors += 1
        elif (skipped := case.find("skipped")) is not None:
            result.skipped += 1
            skips.append(f"{case.get('classname')}.{case.get('name')}: {skipped.get('message')}")
    result.subtests = max(reports - result.tests, 0)
    result.subtests_failed = len(re.findall(r"^SUBFAILED", output, re.MULTILINE))
    if result.failures or result.errors:
        result.problems.append(f"{result.failures} failed, {result.errors} errors")
    if result.skipped:
        # Browser tests are skipped without Chromium or websocket-client: that proves nothing.
        result.problems.append(f"{result.skipped} skipped (a skip is a failure)")
        show("skipped tests:", skips)
        if any("chrom" in skip.lower() for skip in skips):
            say("browser tests need Chromium: apt-get install chromium")
    if result.passed <= 0:
        result.problems.append("no test passed")
    return result


def run_pytest(env: Env, config: Path, db_name: str, args, extra: list[str]) -> PytestResult:
    link = env.addons_dir / MODULE
    odoo_log = env.logs / "test-pytest-odoo.log"
    output_log = env.logs / "test-pytest.log"
    junit = env.logs / "test-pytest.xml"
    for path in (odoo_log, output_log, junit):
        path.unlink(missing_ok=True)
    paths, options = test_paths(link, extra)
    cmd = [
        env.odoo.python, "-m", "pytest",
        f"--odoo-config={config}",
        f"--odoo-database={db_name}",
        "--odoo-log-level=warn",  # Odoo's name; "warning" is refused
        f"--odoo-extra=logfile={odoo_log}",
        "-p", "no:cacheprovider",
        "-rfEs",  # the short summary lists failures, errors and skips
        f"--junitxml={junit}",
        f"--rootdir={link}",
    ]  # fmt: skip
    if any("HttpCase" in p.read_text(errors="replace") for p in (link / "tests").glob("*.py")):
        cmd.append("--odoo-http")
    if args.k:
        cmd += ["-k", args.k]
    if sys.stdout.isatty():
        cmd.append("--color=yes")
    cmd += options + (paths or [str(link / "tests")])
    say(f"running the tests: {shlex.join(cmd)}")
    started = time.monotonic()
    with open(output_log, "w") as tee:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            env=env.odoo.env(), cwd=link,
        )  # fmt: skip
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            tee.write(line)
        returncode = proc.wait()
    result = junit_result(junit, output_log.read_text(errors="replace"))
    result.seconds = time.monotonic() - started
    if returncode:
        result.problems.append(f"pytest exited {returncode}")
    if not log_is_clean(env.odoo, odoo_log, ignore=HARMLESS + WARNINGS, may_be_empty=True):
        result.problems.append(f"Odoo logged ERROR/CRITICAL records ({odoo_log})")
    return result


# --------------------------------------------------------------------------------------
# uninstall
# --------------------------------------------------------------------------------------


def uninstall(env: Env, config: Path, db_name: str) -> Check:
    """click-odoo-uninstall, then no ir.model row and no table of the addon may be left."""
    check = Check("uninstall")
    db = env.database(config)
    log = env.logs / "test-uninstall.log"
    log.unlink(missing_ok=True)
    say(f"uninstalling {MODULE} (log: {log})")
    started = time.monotonic()
    returncode = db.uninstall(db_name, MODULE, log)
    check.seconds = time.monotonic() - started
    state, _demo = db.module_state(db_name)
    models, tables = db.sql(
        [
            ("SELECT model FROM ir_model WHERE model LIKE %s", [f"{MODEL_PREFIX}%"]),
            (
                "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relkind IN ('r','v','p')",
                [list(MODULE_TABLES)],
            ),
        ],
        dbname=db_name,
    )
    reasons = []
    if returncode:
        reasons.append(f"click-odoo-uninstall exited {returncode}")
    if state != "uninstalled":
        reasons.append(f"module state is {state}")
    if models:
        reasons.append(f"ir.model rows remain: {', '.join(row[0] for row in models)}")
    if tables:
        reasons.append(f"tables remain: {', '.join(row[0] for row in tables)}")
    if not log_is_clean(env.odoo, log, may_be_empty=True):
        reasons.append("ERROR/CRITICAL records in the log (checklog-odoo)")
    check.ok = not reasons
    check.detail = "FAILED: " + "; ".join(reasons) if reasons else "passed (no model or table left)"
    say(f"uninstall: {check.detail} ({check.seconds:.0f} s)")
    return check


# --------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------


def cmd_test(args, extra: list[str]) -> int:
    env = setup(TEST_IMPORTS)
    ensure_chromium()
    db_name = f"mac_test_{os.getpid()}"
    checks = [Check("install"), Check("uninstall")]
    result = None
    with file_lock(env.cache / ".test.lock", "./dev test"):
        # a port of its own for the browser tests, so that runs in parallel do not collide
        config = env.write_config("odoo-test.conf", smtp_port=1, http_port=free_port())
        db = env.database(config)
        try:
            db.drop(db_name)
            checks[0] = install(env, config, db_name)
            if checks[0].ok or db.module_state(db_name)[0] == "installed":
                result = run_pytest(env, config, db_name, args, extra)
                checks[1] = uninstall(env, config, db_name)
        finally:
            if args.keep:
                say(f"kept database {db_name} (drop it with: ./dev drop {db_name})")
            else:
                with contextlib.suppress(SetupError):
                    db.drop(db_name)
                    say(f"dropped database {db_name}")
    result = result or PytestResult(problems=["not run"])
    print("\nsummary:")
    print(f"  {'install':<10} {checks[0].detail} [{checks[0].seconds:.0f} s]")
    problems = "; FAILED: " + "; ".join(result.problems) if result.problems else ""
    print(f"  {'pytest':<10} {result.line()}{problems} [{result.seconds:.0f} s]")
    print(f"  {'uninstall':<10} {checks[1].detail} [{checks[1].seconds:.0f} s]")
    verdict = {True: "passed", False: "FAILED"}
    print(
        f"{result.line()}{problems}; install check {verdict[checks[0].ok]}, "
        f"uninstall check {verdict[checks[1].ok]}",
        flush=True,
    )
    return 0 if result.ok and all(check.ok for check in checks) else 1
