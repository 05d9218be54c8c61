"""``./dev screenshots``: the README's pictures, taken from the real interface.

A new database with the demo data (as ``./dev run`` makes it) is served with the scheduler off,
so that mails stay queued, then ``devtools/readme_screenshots.py`` runs the demo campaign over
RPC and photographs it with headless Chromium into static/description/. The database is
dropped afterwards: the script runs the demo campaign once.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request

from .common import REPO_DIR, SetupError, check_db_name, free_port, say
from .serve import install_or_upgrade
from .system import ensure_chromium
from .workspace import DB_IMPORTS, setup

SCRIPT = REPO_DIR / "devtools" / "readme_screenshots.py"


def wait_for_http(url: str, server: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SetupError(f"Odoo stopped (exit {server.returncode}) before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SetupError(f"Odoo did not answer on {url} within {timeout:.0f} s")


def cmd_screenshots(args, extra: list[str]) -> int:
    db_name = check_db_name(args.db)
    env = setup((*DB_IMPORTS, "websocket"))
    ensure_chromium()
    port = free_port()
    config = env.write_config("odoo-screenshots.conf", smtp_port=1, http_port=port)
    db = env.database(config)
    db.drop(db_name)
    try:
        if not install_or_upgrade(env, config, db_name):
            return 1
        log = env.logs / f"screenshots-{db_name}.log"
        cmd = env.odoo_cmd(
            config,
            *("-d", db_name, "--db-filter", f"^{db_name}$", "--max-cron-threads=0"),
            *("--http-interface", "127.0.0.1", "--http-port", port, f"--logfile={log}"),
        )
        url = f"http://127.0.0.1:{port}"
        say(f"serving {db_name} on {url} with the scheduler off (log: {log})")
        server = subprocess.Popen(cmd, env=env.odoo.env(), cwd="/")
        try:
            wait_for_http(f"{url}/web/login", server)
            script = [env.odoo.python, str(SCRIPT), "--url", url, "--db", db_name]
            return subprocess.run(script, env=env.odoo.env(), cwd=REPO_DIR).returncode
        finally:
            server.terminate()
            server.wait()
    finally:
        if args.keep:
            say(f"kept database {db_name} (drop it with: ./dev drop {db_name})")
        else:
            db.drop(db_name)
