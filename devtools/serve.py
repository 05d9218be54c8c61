"""``./dev run``: create (from a cached template) or upgrade a development database with the
addon and demo data, then serve it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from .common import COMPANION_MODULES, MODULE, SetupError, check_db_name, port_is_free, say
from .logcheck import log_is_clean
from .workspace import DB_IMPORTS, Env, setup


def install_or_upgrade(env: Env, config: Path, db_name: str) -> bool:
    """Create the database (from a cached template) with the addon and demo data, or upgrade
    the addon in it; False when that failed."""
    db = env.database(config)
    log = env.logs / f"run-{db_name}.log"
    state = None
    if not db.exists(db_name):
        db.create(db_name, [*env.depends, *COMPANION_MODULES], env.logs / "run-template.log")
    else:
        state = db.module_state(db_name)[0]
    if state == "installed":
        missing = [m for m in COMPANION_MODULES if db.module_state(db_name, m)[0] != "installed"]
        action = ["-u", MODULE] + (["-i", ",".join(missing)] if missing else [])
    else:
        action = ["-i", ",".join((MODULE, *COMPANION_MODULES))]
    verb = "upgrading" if state == "installed" else "installing"
    say(f"{verb} {MODULE} in database {db_name} (log: {log})")
    started = time.monotonic()
    proc = subprocess.run(
        env.odoo_cmd(
            config, "-d", db_name, *action, "--stop-after-init", "--no-http", f"--logfile={log}"
        ),
        env=env.odoo.env(),
    )
    state, demo = db.module_state(db_name)
    if proc.returncode or state != "installed":
        say(f"{verb} failed (exit {proc.returncode}, module state {state}): see {log}")
        return False
    if not log_is_clean(env.odoo, log):
        say(f"Odoo logged warnings or errors while {verb} (see {log})")
    say(
        f"{verb} done in {time.monotonic() - started:.0f} s"
        + ("" if demo else " (this database has no demo data)")
    )
    return True


def cmd_run(args, odoo_args: list[str]) -> int:
    db_name = check_db_name(args.db)
    if not port_is_free(args.port):
        raise SetupError(f"port {args.port} is already in use: choose another with --port")
    env = setup(DB_IMPORTS)
    config = env.write_config("odoo.conf", smtp_port=1025, http_port=args.port)
    if not install_or_upgrade(env, config, db_name):
        return 1
    print(
        f"\n  Odoo 18.0 with {MODULE}, database {db_name}\n"
        f"  URL:      http://localhost:{args.port}/odoo\n"
        "  login:    admin\n"
        "  password: admin\n"
        "  Stop with Ctrl-C.\n",
        flush=True,
    )
    cmd = env.odoo_cmd(
        config, "-d", db_name, "--http-interface", "127.0.0.1", "--http-port", args.port, *odoo_args
    )
    os.execvpe(cmd[0], cmd, env.odoo.env())
    return 0  # not reached
