"""``./dev bench``: a thin dispatcher to ``bench/run.py``, which owns the benchmark.

It sets up Odoo, PostgreSQL, the addon link and an Odoo configuration file, then runs
``bench/run.py --config <that file> <arguments>`` with Odoo's Python and returns its exit code.
"""

from __future__ import annotations

import subprocess

from .common import REPO_DIR, SetupError, free_port, say
from .workspace import DB_IMPORTS, setup

BENCH_SCRIPT = REPO_DIR / "bench" / "run.py"


def cmd_bench(args, extra: list[str]) -> int:
    if not BENCH_SCRIPT.is_file():
        raise SetupError(f"{BENCH_SCRIPT} is missing")
    env = setup(DB_IMPORTS)
    # mail goes nowhere unless the benchmark points Odoo at its own SMTP sink
    config = env.write_config("odoo-bench.conf", smtp_port=1, http_port=free_port())
    cmd = [env.odoo.python, str(BENCH_SCRIPT), "--config", str(config), *extra]
    say(f"running {' '.join(cmd)}")
    return subprocess.run(cmd, env=env.odoo.env(), cwd=REPO_DIR).returncode
