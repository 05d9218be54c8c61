"""Odoo databases, through click-odoo-contrib: created from cached templates, uninstalled from,
dropped with their filestore; and the SQL reads that check them."""

from __future__ import annotations

from pathlib import Path

from .common import MODULE, SetupError, check_db_name, run, say
from .postgres import sql

# click-odoo-initdb names its templates "<prefix>-<date>-<hash of the modules' files>" and
# drops the old ones of that prefix itself (30 days, 5 templates by default).
TEMPLATE_PREFIX = "mactmpl"


class Database:
    def __init__(self, odoo, pg, config: Path | None):
        """``config``: the Odoo configuration file the click-odoo commands read."""
        self.odoo = odoo
        self.pg = pg
        self.config = config

    def sql(self, queries, dbname: str = "postgres", check: bool = True):
        return sql(self.odoo, self.pg, queries, dbname, check)

    def names(self) -> list[str]:
        query = "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1"
        rows = self.sql([(query, [])])
        return [row[0] for row in rows[0]]

    def exists(self, name: str) -> bool:
        return name in self.names()

    def module_state(self, name: str, module: str = MODULE) -> tuple[str | None, bool]:
        """(state, demo) of ``module`` in database ``name``; (None, False) if absent."""
        queries = [("SELECT to_regclass('ir_module_module') IS NOT NULL", [])]
        if not self.sql(queries, dbname=name)[0][0][0]:
            return None, False
        rows = self.sql(
            [("SELECT state, demo FROM ir_module_module WHERE name = %s", [module])], dbname=name
        )[0]
        return (rows[0][0], bool(rows[0][1])) if rows else (None, False)

    def create(self, name: str, modules, log: Path) -> None:
        """A new database ``name`` with ``modules`` and demo data, copied from the cached
        template of exactly these modules (made on first use, by click-odoo-initdb)."""
        check_db_name(name)
        say(f"creating database {name} with {', '.join(modules)} (log: {log})")
        cmd = self.odoo.tool(
            "click_odoo_contrib.initdb",
            "-c", self.config,
            "-n", name,
            "-m", ",".join(modules),
            "--demo",
            "--cache-prefix", TEMPLATE_PREFIX,
            "--log-level", "info",
            "--logfile", log,
        )  # fmt: skip
        proc = run(cmd, check=False, env=self.odoo.env(), cwd="/")
        if proc.returncode:
            raise SetupError(f"click-odoo-initdb could not create {name} (see {log})")

    def uninstall(self, name: str, module: str, log: Path) -> int:
        """Uninstall ``module`` with click-odoo-uninstall; its exit code."""
        cmd = self.odoo.tool(
            "click_odoo_contrib.uninstall",
            "-c", self.config,
            "-d", name,
            "-m", module,
            "--log-level", "error",
            "--logfile", log,
        )  # fmt: skip
        return run(cmd, check=False, env=self.odoo.env(), cwd="/").returncode

    def drop(self, name: str) -> None:
        """Drop a database and its filestore (click-odoo-dropdb), if it exists."""
        check_db_name(name)
        cmd = self.odoo.tool("click_odoo_contrib.dropdb", "-c", self.config, "--if-exists", name)
        run(cmd, env=self.odoo.env(), cwd="/", capture_output=True)
