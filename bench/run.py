"""The benchmark: this module against plain Email Marketing and OCA automation_oca.

    python3 bench/run.py --config ODOO_CONF [--contacts 10000] [--scale 100000 1000000]
                         [--timing 100000] [--split 100000] [--goal 100000]
                         [--stages ...] [--products ma mm oca] [--output bench/RESULTS.md]

``ODOO_CONF`` is an Odoo configuration file (``./dev`` writes one): its addons path
holds this module, its database options reach the PostgreSQL server. The benchmark
writes its own configuration beside it (the OCA addon folder added to the addons path,
mail sent to a local SMTP sink on loopback), creates one database per product with the
same contacts, runs each stage in a process of its own (``bench/measure.py``), runs the
fault scenarios with real Odoo servers (``bench/faults.py``) and writes the report.
See bench/README.md.
"""

import argparse
import configparser
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psycopg2

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import common  # noqa: E402 - after the path set-up above
import faults  # noqa: E402
import products  # noqa: E402
import report  # noqa: E402

OCA_REQUIREMENT = "odoo-addon-automation-oca==18.0.*"
STAGES = {
    "ma": [
        "prepare", "enrol", "email", "email_repeat", "opens", "open_one", "opened_child",
        "not_opened", "action_noop", "action_tag", "action_noop_batch", "action_tag_batch",
        "enrol_scale", "opens_scale", "due_scan",
        "timing_window", "timing_cap", "timing_cap_sms", "timing_redate",
        "split", "goal",
    ],
    "mm": ["prepare", "email", "email_repeat", "opens", "open_one"],
    "oca": [
        "prepare", "enrol", "email", "opens", "open_one", "opened_child", "not_opened",
        "action_noop", "action_tag", "due_scan",
    ],
}  # fmt: skip
ALL_STAGES = sorted({stage for stages in STAGES.values() for stage in stages} | {"faults"})


def say(message):
    print(f"bench: {message}", flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.source_config = Path(args.config).resolve()
        parser = configparser.ConfigParser()
        parser.read(self.source_config)
        self.options = dict(parser["options"])
        self.cache = Path(os.environ.get("MAC_CACHE_DIR") or self.source_config.parent)
        self.work = self.cache / "bench"
        self.work.mkdir(parents=True, exist_ok=True)
        self.addons = self.work / "addons"
        self.sink_file = self.work / "smtp-sink.log"
        self.odoo_bin = self._odoo_bin()
        self.config = self.work / "bench-odoo.conf"
        self.results = []

    # -- set-up -----------------------------------------------------------------------

    @staticmethod
    def _odoo_bin():
        import odoo

        return Path(odoo.__file__).resolve().parent.parent / "odoo-bin"

    def connect(self, dbname="postgres"):
        password = self.options.get("db_password")
        connection = psycopg2.connect(
            dbname=dbname,
            host=self.options.get("db_host") or None,
            port=self.options.get("db_port") or None,
            user=self.options.get("db_user") or None,
            password=None if password in (None, "", "False") else password,
        )
        connection.autocommit = True
        return connection

    def sql(self, query, params=None, dbname="postgres"):
        connection = self.connect(dbname)
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()

    def fetch_oca(self):
        """The automation_oca addon folder, taken out of its wheel (downloaded with
        pip into the cache, never installed into Odoo's Python)."""
        target = self.addons / "automation_oca"
        wheels = self.work / "wheels"
        wheel = next(iter(sorted(wheels.glob("odoo_addon_automation_oca-18.0*.whl"))), None)
        if wheel is None:
            say(f"downloading {OCA_REQUIREMENT}")
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                 str(wheels), OCA_REQUIREMENT],
                check=True,
            )  # fmt: skip
            wheel = next(iter(sorted(wheels.glob("odoo_addon_automation_oca-18.0*.whl"))))
        self.oca_version = wheel.name.split("-")[1]
        if not (target / "__manifest__.py").exists():
            prefix = "odoo/addons/automation_oca/"
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if member.startswith(prefix) and not member.endswith("/"):
                        path = target / member[len(prefix) :]
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(archive.read(member))
        manifest = eval((target / "__manifest__.py").read_text())  # noqa: S307 - a manifest
        paths = [self.addons, *self.options["addons_path"].split(",")]
        missing = [
            module
            for module in manifest["depends"]
            if not any((Path(path) / module / "__manifest__.py").exists() for path in paths)
        ]
        if missing:
            raise SystemExit(f"automation_oca needs modules that are not found: {missing}")
        return manifest["depends"]

    def write_config(self, http_port=None, extra=None):
        options = dict(self.options)
        options.update(
            {
                "addons_path": ",".join([str(self.addons), self.options["addons_path"]]),
                "smtp_server": "127.0.0.1",
                "smtp_port": str(self.args.smtp_port),
                "log_level": "warn",
                "http_interface": "127.0.0.1",
                "http_port": str(http_port or self.args.http_ports[0]),
                "without_demo": "all",
                "max_cron_threads": "0",
                **(extra or {}),
            }
        )
        return options

    def save_config(self, path, options):
        text = "; written by bench/run.py\n[options]\n"
        text += "".join(f"{key} = {value}\n" for key, value in options.items())
        path.write_text(text)
        return path

    def start_sink(self):
        self.sink_file.unlink(missing_ok=True)
        self.sink_file.touch()
        self.sink = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "smtp_sink.py"), "--port",
             str(self.args.smtp_port), "--out", str(self.sink_file)],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        line = self.sink.stdout.readline()
        if "listening" not in line:
            raise SystemExit(f"the SMTP sink did not start: {line}")
        say(line.strip())

    def odoo(self, *args, config=None):
        return [sys.executable, str(self.odoo_bin), "-c", str(config or self.config), *args]

    def database(self, product):
        return f"mac_bench_{product}"

    def create_database(self, product, name=None):
        """A database of the product's modules, without demo data, from a template
        installed once per run (or kept with --reuse)."""
        template = f"{self.database(product)}_template"
        name = name or self.database(product)
        exists = self.sql("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        if exists and not self.args.reuse:
            self.drop(template)
            exists = False
        if not exists:
            say(f"installing {', '.join(products.MODULES[product])} into {template}")
            log = self.work / f"install-{product}.log"
            started = time.perf_counter()
            subprocess.run(
                self.odoo(
                    "-d", template, "-i", ",".join(products.MODULES[product]),
                    "--stop-after-init", "--no-http", f"--logfile={log}",
                ),
                check=True,
            )  # fmt: skip
            say(f"installed in {time.perf_counter() - started:.0f} s")
        self.drop(name)
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop(self, name):
        self.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        self.sql(f'DROP DATABASE IF EXISTS "{name}"')

    # -- measures ---------------------------------------------------------------------

    def state_path(self, db):
        return self.work / f"state-{db}.json"

    def state(self, db):
        return json.loads(self.state_path(db).read_text())

    say = staticmethod(say)

    def measure(self, product, stage, size=0, db=None):
        db = db or self.database(product)
        state = self.state_path(db)
        command = [
            sys.executable, str(BENCH_DIR / "measure.py"), "--config", str(self.config),
            "--db", db, "--product", product, "--stage", stage,
            "--state", str(state), "--size", str(size),
        ]  # fmt: skip
        say(f"{products.LABELS[product]}: {stage}" + (f" ({size:,})" if size else ""))
        env = dict(
            os.environ,
            BENCH_SINK_FILE=str(self.sink_file),
            BENCH_OCA_EMAIL_LIMIT=str(self.args.oca_email_limit),
            BENCH_OPENS=str(self.args.opens),
        )
        load_before = os.getloadavg()[0]
        proc = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=self.args.timeout
        )
        load_after = os.getloadavg()[0]
        lines = [line for line in proc.stdout.splitlines() if line.startswith("BENCH ")]
        if proc.returncode or not lines:
            raise SystemExit(
                f"{product} {stage} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
            )
        result = json.loads(lines[-1].split(" ", 1)[1])
        # the machine's load (1-minute average) when the stage started and ended
        result["load"] = [round(load_before, 2), round(load_after, 2)]
        if not stage.endswith("prepare"):
            self.results.append(result)
            rate = result["records"] / result["seconds"] if result["seconds"] else 0
            say(
                f"  {result['records']:,} records in {result['seconds']:.3f} s "
                f"({rate:,.0f}/s), {result['queries']:,} queries, "
                f"peak {result['rss_peak_mb']:.0f} MB"
            )
        return result

    def run_product(self, product):
        stages = [s for s in STAGES[product] if s in self.args.stages or s == "prepare"]
        self.create_database(product)
        self.state_path(self.database(product)).unlink(missing_ok=True)
        for stage in stages:
            if stage == "prepare":
                self.measure(product, stage, self.args.contacts)
            elif stage == "enrol_scale":
                for size in self.args.scale:
                    self.measure(product, stage, size)
            elif stage == "due_scan":
                self.measure(product, stage, self.args.future)
            elif stage == "email_repeat":
                continue  # alternated with the other products' runs: see email_runs
            elif stage == "opens_scale":
                self.measure(product, stage, self.args.opens_campaign)
            elif stage.startswith("timing_"):
                self.measure(product, stage, self.args.timing)
            elif stage in ("split", "goal"):
                self.measure(product, stage, getattr(self.args, stage))
            else:
                self.measure(product, stage)

    def email_runs(self):
        """The email step on contacts of its own, ``EMAIL_RUNS`` times, the products
        alternated run after run (so that a change of the machine's load weighs on
        each alike), in databases of their own (the other stages leave a million
        contacts in this module's); one result per product: the median run,
        every run's time."""
        runs = {}
        products_ = [p for p in self.args.products if "email_repeat" in STAGES[p]]
        for product in products_:
            self.create_database(product, self.email_database(product))
        for run in range(common.EMAIL_RUNS):
            for product in products_:
                os.environ["BENCH_RUN"] = str(run)
                result = self.measure(
                    product,
                    "email_repeat",
                    self.args.email_contacts,
                    db=self.email_database(product),
                )
                self.results.remove(result)
                runs.setdefault(product, []).append(result)
        for results in runs.values():
            ordered = sorted(results, key=lambda result: result["seconds"])
            median = dict(ordered[len(ordered) // 2])
            median["runs"] = [result["seconds"] for result in results]
            median["load"] = [results[0]["load"][0], results[-1]["load"][1]]
            self.results.append(median)

    def email_database(self, product):
        return f"{self.database(product)}_email"

    def main(self):
        if self.args.report_only:
            self.fetch_oca()
            raw = json.loads((self.work / "results.json").read_text())
            Path(self.args.output).write_text(report.render(self, raw))
            say(f"{self.args.output} written from {self.work}/results.json")
            return
        started = time.perf_counter()
        load = [os.getloadavg()[1]]
        self.oca_depends = self.fetch_oca()
        self.save_config(self.config, self.write_config())
        self.start_sink()
        fault_results = None
        try:
            for product in self.args.products:
                self.run_product(product)
            if "email_repeat" in self.args.stages:
                self.email_runs()
            if "faults" in self.args.stages:
                fault_results = faults.run_all(self)
        finally:
            self.sink.terminate()
            self.sink.wait()
            if not self.args.keep:
                for product in products.PRODUCTS:
                    self.drop(self.database(product))
                    self.drop(self.email_database(product))
                    if not self.args.reuse:
                        self.drop(f"{self.database(product)}_template")
                faults.drop_databases(self)
        duration = time.perf_counter() - started
        raw = {
            "args": {k: v for k, v in vars(self.args).items() if k != "func"},
            "results": self.results,
            "faults": fault_results,
            "duration": duration,
            "load": [*load, os.getloadavg()[1]],
        }
        raw["machine"] = report.machine(self)
        (self.work / "results.json").write_text(json.dumps(raw, indent=1))
        text = report.render(self, raw)
        Path(self.args.output).write_text(text)
        say(f"done in {duration / 60:.1f} min: {self.args.output} (raw: {self.work}/results.json)")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Stages: " + ", ".join(ALL_STAGES),
    )
    parser.add_argument("--config", required=True, help="Odoo configuration file")
    parser.add_argument(
        "--contacts", type=int, default=2_000,
        help="contacts (2,000: about 25 minutes on 2 busy CPUs)",
    )  # fmt: skip
    parser.add_argument(
        "--scale", type=int, nargs="*", default=[],
        help="also enrol at these sizes (e.g. 100000 1000000)",
    )  # fmt: skip
    parser.add_argument(
        "--email-contacts", type=int, default=300,
        help="contacts of each of the 3 runs of the repeated email step (300)",
    )  # fmt: skip
    parser.add_argument(
        "--opens", type=int, default=30_000,
        help="mails opened at once in the opens-at-scale stage (30,000)",
    )  # fmt: skip
    parser.add_argument(
        "--opens-campaign", type=int, default=100_000,
        help="participants of the campaign of the opens-at-scale stage (100,000)",
    )  # fmt: skip
    parser.add_argument(
        "--future", type=int, default=1_000_000,
        help="traces scheduled in the future for the due scan (1,000,000)",
    )  # fmt: skip
    parser.add_argument(
        "--timing", type=int, default=100_000,
        help="due traces of the timing stages: send window, frequency caps, re-dating (100,000)",
    )  # fmt: skip
    parser.add_argument(
        "--split", type=int, default=100_000,
        help="participants sent down an A/B split's two branches (100,000)",
    )  # fmt: skip
    parser.add_argument(
        "--goal", type=int, default=100_000,
        help="running participants of the goal check, 10 %% of them reaching it (100,000)",
    )  # fmt: skip
    parser.add_argument("--stages", nargs="*", default=ALL_STAGES, choices=ALL_STAGES)
    parser.add_argument(
        "--products", nargs="*", default=list(products.PRODUCTS), choices=products.PRODUCTS
    )
    parser.add_argument("--output", default=str(BENCH_DIR / "RESULTS.md"))
    parser.add_argument("--smtp-port", type=int, default=1030)
    parser.add_argument(
        "--http-ports", type=int, nargs=2, default=[8074, 8075],
        help="the HTTP ports of the two Odoo servers of the fault scenarios",
    )  # fmt: skip
    parser.add_argument(
        "--fault-participants", type=int, default=1_000,
        help="participants of the fault scenarios (1,000)",
    )  # fmt: skip
    parser.add_argument(
        "--oca-email-limit", type=int, default=200,
        help="automation_oca's email step is measured on this many records (200; 0: all)",
    )  # fmt: skip
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per measure")
    parser.add_argument(
        "--reuse", action="store_true", help="keep and reuse the installed template databases"
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the report again from the last run's results.json",
    )
    return parser.parse_args(argv)


def stop(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


if __name__ == "__main__":
    # a stopped benchmark still stops its Odoo servers and SMTP sink (``finally``)
    signal.signal(signal.SIGTERM, stop)
    Bench(parse_args()).main()
