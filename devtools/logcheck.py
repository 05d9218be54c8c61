"""Odoo log checks, by checklog-odoo: any record above INFO fails, unless ignored."""

from __future__ import annotations

import subprocess
from pathlib import Path

# pytest imports the test modules (so odoo.tests.common) before pytest-odoo turns test mode
# on, and Odoo 18 then logs this ERROR; enabling test mode earlier would make Odoo run every
# module's tests itself.
HARMLESS = (r"odoo\.tests\.common: Importing test framework, avoid importing from business",)
# Tests may log warnings on purpose (and the browser's console warnings reach Odoo's log at
# that level whatever the log level); ERROR and CRITICAL records still fail the run.
WARNINGS = (r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ WARNING ",)


def log_is_clean(odoo, log: Path, *, ignore=(), may_be_empty: bool = False) -> bool:
    """checklog-odoo on ``log``: True when it holds no WARNING, ERROR or CRITICAL record
    (other than ``ignore``, regular expressions); it prints the records that failed."""
    cmd = odoo.tool("checklog_odoo", "--no-echo", str(log))
    for regex in ignore:
        cmd += ["--ignore", regex]
    if may_be_empty:
        cmd.append("--no-err-if-empty")
    # cwd: a checklog-odoo.cfg or pyproject.toml of the current folder would change the rules
    proc = subprocess.run(cmd, env=odoo.env(), cwd="/", capture_output=True, text=True)
    if proc.returncode:
        print((proc.stdout + proc.stderr).strip()[-6000:], flush=True)
    return proc.returncode == 0
