"""A PostgreSQL server (its address and user), the one named by PGHOST..., maintenance SQL."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
from dataclasses import dataclass

from .common import SetupError, run


@dataclass
class PgServer:
    host: str
    port: int
    user: str
    password: str | None
    description: str

    def dsn(self, dbname: str = "postgres") -> dict:
        dsn = {"host": self.host, "port": self.port, "user": self.user, "dbname": dbname}
        if self.password:
            dsn["password"] = self.password
        return dsn


SQL_HELPER = r"""
import json, sys
import psycopg2
request = json.loads(sys.stdin.read())
conn = psycopg2.connect(connect_timeout=10, **request["dsn"])
conn.autocommit = True
results = []
with conn.cursor() as cr:
    for query, params in request["queries"]:
        cr.execute(query, params)
        results.append(cr.fetchall() if cr.description else None)
conn.close()
print(json.dumps(results, default=str))
"""


def sql(odoo, pg: PgServer, queries, dbname: str = "postgres", check: bool = True):
    """Run ``queries`` ([(query, params)]) through psycopg2 in Odoo's Python (no psql needed);
    return their rows, or None when ``check`` is off and the connection failed."""
    request = json.dumps({"dsn": pg.dsn(dbname), "queries": queries})
    proc = subprocess.run(
        [odoo.python, "-c", SQL_HELPER],
        input=request,
        capture_output=True,
        text=True,
        env=odoo.env(),
    )
    if proc.returncode:
        if not check:
            return None
        error = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise SetupError(f"PostgreSQL {pg.description}: {error}")
    return json.loads(proc.stdout)


def external_pg(odoo) -> PgServer:
    host = os.environ["PGHOST"]
    port = int(os.environ.get("PGPORT") or 5432)
    user = os.environ.get("PGUSER") or getpass.getuser()
    pg = PgServer(host, port, user, os.environ.get("PGPASSWORD"), f"{user}@{host}:{port}")
    pg_isready = shutil.which("pg_isready")
    if pg_isready:
        proc = run(
            [pg_isready, "-h", host, "-p", str(port), "-U", user], check=False, capture_output=True
        )
        if proc.returncode:
            raise SetupError(
                f"PostgreSQL at {host}:{port} does not answer (pg_isready: "
                f"{proc.stdout.strip()}). Unset PGHOST to use the private cluster."
            )
    sql(odoo, pg, [("SELECT 1", [])])
    return pg
