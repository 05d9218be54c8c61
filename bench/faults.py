"""Fault scenarios of the benchmark, with real Odoo servers running the scheduler.

Each scenario has its own database (this module, N contacts, a running campaign: an
email at once, then a server action that logs each run into ``bench_action_log``) and
starts ``odoo-bin --max-cron-threads=1`` processes, each with its own HTTP port:

- ``workers_1``: one server runs everything (the reference time);
- ``workers_2``: two servers run the scheduler at the same time;
- ``kill``: one server is killed with ``kill -9`` while it executes traces, a new one
  is started and finishes the work.

Then the database is counted: every contact has one participant, every trace ran
exactly once (no duplicate trace of an activity for a participant, one mail per email
trace, one logged run per action trace), none is lost, and the mails reached the SMTP
sink.
"""

import os
import signal
import subprocess
import time

SCENARIOS = ("workers_1", "workers_2", "kill")
POLL = 1.0


def database(scenario):
    return f"mac_bench_fault_{scenario}"


def drop_databases(bench):
    for scenario in SCENARIOS:
        bench.drop(database(scenario))


class Scenario:
    def __init__(self, bench, name, workers):
        self.bench = bench
        self.name = name
        self.workers = workers
        self.db = database(name)
        self.ref = f"fault-{name.replace('_', '-')}"
        self.size = bench.args.fault_participants
        self.servers = []
        # when the first participant showed: the servers' start is not the engine's work
        self.work_started = None

    def prepare(self):
        bench = self.bench
        bench.drop(self.db)
        bench.sql(f'CREATE DATABASE "{self.db}" TEMPLATE "{bench.database("ma")}_template"')
        os.environ.update(BENCH_FAULT_REF=self.ref, BENCH_WORKERS=str(self.workers))
        bench.state_path(self.db).unlink(missing_ok=True)
        bench.measure("ma", "fault_prepare", self.size, db=self.db)

    def start_server(self, index):
        bench = self.bench
        port = bench.args.http_ports[index]
        config = bench.save_config(
            bench.work / f"fault-server-{index}.conf",
            bench.write_config(http_port=port, extra={"max_cron_threads": "1", "workers": "0"}),
        )
        log = bench.work / f"fault-{self.name}-{index}.log"
        server = subprocess.Popen(
            bench.odoo("-d", self.db, f"--logfile={log}", config=config),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.servers.append(server)
        return server

    def wake(self):
        """Wake the servers' cron threads (what ``ir.cron._trigger`` notifies)."""
        self.bench.sql("NOTIFY cron_trigger, %s", [self.db])

    def counts(self):
        rows = self.bench.sql(
            """
            SELECT (SELECT count(*) FROM marketing_participant),
                   (SELECT count(*) FROM marketing_trace WHERE state = 'processed'),
                   (SELECT count(*) FROM marketing_trace WHERE state = 'scheduled'),
                   (SELECT count(*) FROM marketing_trace WHERE state != 'processed'
                                                           AND state != 'scheduled'),
                   (SELECT count(*) FROM mail_mail WHERE state = 'outgoing'),
                   (SELECT count(*) FROM bench_action_log)
            """,
            dbname=self.db,
        )
        keys = ("participants", "processed", "scheduled", "not_run", "outgoing", "action_runs")
        return dict(zip(keys, rows[0], strict=True))

    def engine_done(self, counts):
        return counts["participants"] == self.size and counts["scheduled"] == 0

    def wait(self, until, timeout):
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            counts = self.counts()
            if counts["participants"] and self.work_started is None:
                self.work_started = time.perf_counter()
            if until(counts):
                return counts
            if not any(server.poll() is None for server in self.servers):
                raise SystemExit(f"fault scenario {self.name}: the Odoo servers stopped")
            self.wake()
            time.sleep(POLL)
        raise SystemExit(f"fault scenario {self.name}: not done after {timeout} s: {counts}")

    def stop_servers(self):
        for server in self.servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
        for server in self.servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        self.servers = []

    def checks(self):
        """The counts that prove each trace ran once and none was lost."""
        rows = self.bench.sql(
            """
            SELECT
              (SELECT count(*) FROM (SELECT participant_id, activity_id FROM marketing_trace
                                   GROUP BY 1, 2 HAVING count(*) > 1) d),
              (SELECT count(*) FROM (SELECT marketing_trace_id FROM mailing_trace
                                      WHERE marketing_trace_id IS NOT NULL
                                   GROUP BY 1 HAVING count(*) > 1) d),
              (SELECT count(*) FROM mailing_trace WHERE marketing_trace_id IS NOT NULL),
              (SELECT count(*) FROM (SELECT res_id FROM bench_action_log
                                   GROUP BY 1 HAVING count(*) > 1) d),
              (SELECT count(DISTINCT res_id) FROM bench_action_log),
              (SELECT count(*) FROM (SELECT res_id FROM marketing_participant
                                   GROUP BY 1 HAVING count(*) > 1) d)
            """,
            dbname=self.db,
        )
        keys = (
            "traces_duplicated",
            "mails_generated_twice",
            "mails_generated",
            "actions_run_twice",
            "actions_run_distinct",
            "participants_duplicated",
        )
        result = dict(zip(keys, rows[0], strict=True))
        result["errors"] = self.bench.sql(
            "SELECT state, left(state_msg, 120), count(*) FROM marketing_trace "
            "WHERE state NOT IN ('processed', 'scheduled') GROUP BY 1, 2",
            dbname=self.db,
        )
        with open(self.bench.sink_file) as handle:
            received = [line for line in handle if f"@{self.ref}.example.com" in line]
        result["mails_delivered"] = len(received)
        result["mails_delivered_distinct"] = len(set(received))
        expected = {
            "traces_duplicated": 0,
            "mails_generated_twice": 0,
            "mails_generated": self.size,
            "actions_run_twice": 0,
            "actions_run_distinct": self.size,
            "participants_duplicated": 0,
            "mails_delivered_distinct": self.size,
            "errors": [],
        }
        result["ok"] = all(result[key] == value for key, value in expected.items())
        return result

    def run(self):
        self.prepare()
        state = self.bench.state(self.db)
        timeout = self.bench.args.timeout
        result = {
            "scenario": self.name,
            "participants": self.size,
            "servers": self.workers,
            "scheduler_jobs": state["scheduler_jobs"],
            "scheduler_jobs_added": state["scheduler_jobs_added"],
            "scheduler_jobs_active": state.get("scheduler_jobs_active", self.workers),
        }
        started = time.perf_counter()
        try:
            for index in range(self.workers):
                self.start_server(index)
            if self.name == "kill":
                at_kill = self.wait(
                    lambda c: c["processed"] >= self.size // 5 or self.engine_done(c), timeout
                )
                victim = self.servers[0]
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait()
                result["killed_pid"] = victim.pid
                result["at_kill"] = at_kill
                result["after_kill"] = self.counts()
                self.servers = []
                self.start_server(1)
            result["engine_counts"] = self.wait(self.engine_done, timeout)
            result["engine_seconds"] = time.perf_counter() - self.work_started
            result["startup_seconds"] = self.work_started - started
            result["final_counts"] = self.wait(
                lambda c: self.engine_done(c) and c["outgoing"] == 0, timeout
            )
            result["seconds"] = time.perf_counter() - self.work_started
        finally:
            self.stop_servers()
        result["checks"] = self.checks()
        return result


def run_all(bench):
    if "ma" not in bench.args.products:
        bench.create_database("ma")  # the scenarios' databases are copies of its template
    results = []
    for name, workers in (("workers_1", 1), ("workers_2", 2), ("kill", 1)):
        bench.say(
            f"fault scenario {name}: {workers} Odoo server(s), "
            f"{bench.args.fault_participants:,} participants"
        )
        result = Scenario(bench, name, workers).run()
        bench.say(
            f"  engine done in {result['engine_seconds']:.1f} s, all mail delivered in "
            f"{result['seconds']:.1f} s; checks: {result['checks']}"
        )
        results.append(result)
        if not bench.args.keep:
            bench.drop(database(name))
    return results
