"""``./dev lint``, ``./dev drop`` and ``./dev info``."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from .common import MODULE, REPO_DIR, cache_dir, run, say
from .database import TEMPLATE_PREFIX
from .workspace import DB_IMPORTS, setup

LINT_IMPORTS = ("pre_commit", "ruff", "pylint_odoo")


def module_available(python: str, module: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([python, "-c", code]).returncode == 0


def cmd_lint(args, extra: list[str]) -> int:
    python = sys.executable
    missing = [m for m in LINT_IMPORTS if not module_available(python, m)]
    if missing:
        say(f"missing {', '.join(missing)}: pip install -r requirements-dev.txt")
        run([python, "-m", "pip", "install", "-r", str(REPO_DIR / "requirements-dev.txt")])
    env = dict(os.environ)
    env.setdefault("PRE_COMMIT_HOME", str(cache_dir() / "pre-commit"))
    if args.fix:
        subprocess.run([python, "-m", "ruff", "check", "--fix", "."], cwd=REPO_DIR, env=env)
        subprocess.run([python, "-m", "ruff", "format", "."], cwd=REPO_DIR, env=env)
    cmd = [python, "-m", "pre_commit", "run", "--all-files", "--show-diff-on-failure", *extra]
    return subprocess.run(cmd, cwd=REPO_DIR, env=env).returncode


def cmd_drop(args, extra: list[str]) -> int:
    env = setup(DB_IMPORTS)
    db = env.database(env.write_config("odoo-tools.conf", smtp_port=1, http_port=8069))
    for name in args.databases:
        db.drop(name)
        say(f"dropped database {name}")
    return 0


def cmd_info(args, extra: list[str]) -> int:
    env = setup()
    names = env.database(config=None).names()
    databases = [n for n in names if not n.startswith(f"{TEMPLATE_PREFIX}-")]
    templates = [n for n in names if n.startswith(f"{TEMPLATE_PREFIX}-")]
    print(
        f"cache folder:   {env.cache}\n"
        f"Odoo:           {env.odoo.version}, {env.odoo.origin}\n"
        f"odoo command:   {shlex.join(env.odoo.command)}\n"
        f"addons path:    {','.join(map(str, [env.addons_dir, *env.odoo.addons_paths]))}\n"
        f"addon link:     {env.addons_dir / MODULE} -> {os.readlink(env.addons_dir / MODULE)}\n"
        f"PostgreSQL:     {env.pg.description} (user {env.pg.user})\n"
        f"databases:      {', '.join(databases)}\n"
        f"templates:      {', '.join(templates) or '-'} (click-odoo-initdb's cache)\n"
        f"configs:        {env.cache / 'odoo.conf'} (run), {env.cache / 'odoo-test.conf'} (test)\n"
        f"connect:        psql -h {env.pg.host} -p {env.pg.port} -U {env.pg.user} postgres"
    )
    return 0
