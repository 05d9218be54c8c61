"""One measure of the benchmark, in a process of its own (``bench/run.py`` starts it).

    python3 bench/measure.py --config CONF --db DB --product ma|mm|oca --stage STAGE
                             --state STATE.json [--size N]

It loads the database's registry, runs the stage's setup (not measured), then the
stage itself, and prints one line ``BENCH {json}``: wall time, records handled, SQL
queries (every cursor of the process, ``odoo.sql_db.sql_counter``) and the peak
resident memory of the process (``ru_maxrss``). ``STATE.json`` carries the ids that a
stage leaves to the next ones (campaigns, activities, selected contacts).
"""

import argparse
import datetime
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import products  # noqa: E402 - after the path set-up above


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Measure:
    """What one stage reports; ``run`` times a callable and counts its queries."""

    def __init__(self, env):
        self.env = env
        self.parts = {}
        self.records = 0
        self.extra = {}

    def run(self, name, function):
        from odoo import sql_db

        self.env.flush_all()
        self.env.invalidate_all()
        queries = sql_db.sql_counter
        started = time.perf_counter()
        result = function()
        self.env.flush_all()
        self.parts[name] = {
            "seconds": time.perf_counter() - started,
            "queries": sql_db.sql_counter - queries,
        }
        return result

    def repeat(self, name, function, times):
        """The median of ``times`` calls (short operations such as the due scan)."""
        from odoo import sql_db

        seconds, queries = [], []
        for _index in range(times):
            self.env.invalidate_all()
            before = sql_db.sql_counter
            started = time.perf_counter()
            function()
            seconds.append(time.perf_counter() - started)
            queries.append(sql_db.sql_counter - before)
        self.parts[name] = {
            "seconds": statistics.median(seconds),
            "queries": int(statistics.median(queries)),
        }


class QueryCapture:
    """Collect the SQL text of the queries run inside the ``with`` block."""

    def __init__(self):
        self.queries = []

    def __enter__(self):
        from odoo import sql_db

        original = sql_db.Cursor.execute
        capture = self

        def execute(cursor, query, params=None, log_exceptions=True):
            try:
                capture.queries.append(cursor._format(query, params))
            except Exception:  # noqa: BLE001 - capture only, the query still runs
                capture.queries.append(str(query))
            return original(cursor, query, params, log_exceptions)

        self.patch = mock.patch.object(sql_db.Cursor, "execute", execute)
        self.patch.start()
        return self

    def __exit__(self, *exc):
        self.patch.stop()


def explain(env, queries, keyword):
    """``EXPLAIN ANALYZE`` of the captured SELECT queries mentioning ``keyword``."""
    plans = []
    for query in queries:
        text = query
        if keyword not in text or not text.lstrip().upper().startswith("SELECT"):
            continue
        env.cr.execute("SAVEPOINT bench_explain")
        env.cr.execute("EXPLAIN (ANALYZE, BUFFERS) " + text)
        plan = "\n".join(row[0] for row in env.cr.fetchall())
        env.cr.execute("ROLLBACK TO SAVEPOINT bench_explain")
        plans.append({"query": " ".join(text.split()), "plan": plan})
    return plans


def shifted_now(days):
    """Patch ``fields.Datetime.now`` (and ``Date.today``) ``days`` in the future."""
    from odoo import fields

    real_now = datetime.datetime.now
    delta = datetime.timedelta(days=days)

    def now(*args):
        return (real_now() + delta).replace(microsecond=0)

    return mock.patch.multiple(
        fields.Datetime,
        now=staticmethod(now),
        today=staticmethod(
            lambda *a: (real_now() + delta).replace(hour=0, minute=0, second=0, microsecond=0)
        ),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--product", required=True, choices=sorted(products.PRODUCTS))
    parser.add_argument("--stage", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--size", type=int, default=0)
    args = parser.parse_args()

    import odoo
    from odoo import api

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(args.db)
    state_path = Path(args.state)
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    product = products.PRODUCTS[args.product]
    with registry.cursor() as cr:
        # the administrator (uid 2), as a campaign's responsible; the engines switch
        # users themselves where they do
        env = api.Environment(cr, 2, {"tracking_disable": False})
        measure = Measure(env)
        tools = {
            "measure": measure,
            "state": state,
            "size": args.size,
            "shifted_now": shifted_now,
            "capture": QueryCapture,
            "explain": explain,
        }
        rss_before = rss_mb()
        getattr(product, f"stage_{args.stage}")(env, **tools)
        cr.commit()
    state_path.write_text(json.dumps(state, indent=1))
    result = {
        "product": args.product,
        "stage": args.stage,
        "size": args.size,
        "records": measure.records,
        "parts": measure.parts,
        "seconds": sum(part["seconds"] for part in measure.parts.values()),
        "queries": sum(part["queries"] for part in measure.parts.values()),
        "rss_peak_mb": round(rss_mb(), 1),
        "rss_growth_mb": round(max(0.0, rss_mb() - rss_before), 1),
        "pid": os.getpid(),
        **measure.extra,
    }
    print("BENCH " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
