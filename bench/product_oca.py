"""OCA ``automation_oca`` 18.0 in the benchmark, running the same workflow as far as
it supports it.

A configuration on the contacts (on demand: ``run_automation`` enrols) whose root step
sends the email (a ``mail.template``, through the mass-mail composer, one record at a
time); its children are an "Opened" server action (``mail_open``) and a "Not opened
after 1 day" step (``mail_not_open``). automation_oca has no SMS step: that child is a
server action that does nothing. Its cron ``_cron_automation_steps`` runs every due
step; an open is recorded by ``automation.record.step._set_mail_open`` (what its
tracking pixel route calls).
"""

import os
from unittest import mock

import common

NOT_OPENED_DAYS = 1


def server_action(env, name, code):
    return env["ir.actions.server"].create(
        {
            "name": name,
            "model_id": env["ir.model"]._get_id("res.partner"),
            "state": "code",
            "code": code,
        }
    )


def create_configuration(env, name, ref, steps):
    """A started, on-demand configuration on the contacts of ``ref``; each step names
    its parent by index (``parent``). A root step waits 1 hour: with no delay,
    automation_oca may run it inline while enrolling (``do_not_wait``); the benchmark
    moves it to the past before measuring its execution."""
    configuration = env["automation.configuration"].create(
        {
            "name": name,
            "model_id": env["ir.model"]._get_id("res.partner"),
            "editable_domain": repr(common.contact_domain(ref)),
        }
    )
    created = []
    for values in steps:
        values = dict(values, configuration_id=configuration.id)
        if "parent" in values:
            values["parent_id"] = created[values.pop("parent")].id
        created.append(env["automation.configuration.step"].create(values))
    configuration.start_automation()
    return configuration, created


def make_due(env, step_id, limit=None):
    """Move the scheduled steps of ``step_id`` to the past (their 1-hour wait), the
    first ``limit`` of them if given."""
    env.flush_all()
    env.cr.execute(
        """
        UPDATE automation_record_step
           SET scheduled_date = now() at time zone 'UTC' - interval '1 minute'
         WHERE id IN (SELECT id FROM automation_record_step
                       WHERE configuration_step_id = %s AND state = 'scheduled'
                    ORDER BY id LIMIT %s)
        """,
        [step_id, limit],
    )
    env.invalidate_all()


def count_steps(env, step_id, state="done"):
    env.flush_all()
    env.cr.execute(
        "SELECT count(*) FROM automation_record_step "
        "WHERE configuration_step_id = %s AND state = %s",
        [step_id, state],
    )
    return env.cr.fetchone()[0]


def run_cron(env):
    env["automation.record.step"]._cron_automation_steps()


# ----------------------------------------------------------------------------------
# stages
# ----------------------------------------------------------------------------------


def stage_prepare(env, measure, state, size, **_tools):
    state["contacts"] = common.insert_contacts(env, size, common.MAIN_REF)
    tag = env["res.partner.category"].create({"name": "Bench tag"})
    template = env["mail.template"].create(
        {
            "name": "Bench offer",
            "model_id": env["ir.model"]._get_id("res.partner"),
            "subject": common.SUBJECT,
            "partner_to": "{{ object.id }}",
            "email_from": env.user.email_formatted,
            "body_html": common.BODY,
        }
    )
    configuration, (email, opened, not_opened) = create_configuration(
        env,
        "Bench flow",
        common.MAIN_REF,
        [
            {
                "name": "Welcome",
                "step_type": "mail",
                "mail_template_id": template.id,
                "trigger_type": "start",
                "trigger_interval": 1,
            },
            {
                "name": "Opened",
                "step_type": "action",
                "server_action_id": server_action(env, "Bench: opened", common.NOOP_CODE).id,
                "trigger_type": "mail_open",
                "parent": 0,
                "trigger_interval": 0,
            },
            {
                "name": "Not opened after 1 day (a server action: no SMS in automation_oca)",
                "step_type": "action",
                "server_action_id": server_action(env, "Bench: not opened", common.NOOP_CODE).id,
                "trigger_type": "mail_not_open",
                "parent": 0,
                "trigger_interval": NOT_OPENED_DAYS,
                "trigger_interval_type": "days",
            },
        ],
    )
    state["flow"] = {
        "configuration": configuration.id,
        "email": email.id,
        "opened": opened.id,
        "not_opened": not_opened.id,
    }
    actions = {}
    for key, code in (("noop", common.NOOP_CODE), ("tag", common.TAG_CODE % tag.id)):
        configuration, [step] = create_configuration(
            env,
            f"Bench action {key}",
            common.MAIN_REF,
            [
                {
                    "name": f"Action {key}",
                    "step_type": "action",
                    "server_action_id": server_action(env, f"Bench: {key}", code).id,
                    "trigger_type": "start",
                    "trigger_interval": 1,
                }
            ],
        )
        actions[key] = {"configuration": configuration.id, "step": step.id}
    state["actions"] = actions


def stage_enrol(env, measure, state, **_tools):
    configuration = env["automation.configuration"].browse(state["flow"]["configuration"])
    measure.run("enrol", configuration.run_automation)
    measure.records = env["automation.record"].search_count(
        [("configuration_id", "=", configuration.id)]
    )


def stage_email(env, measure, state, **_tools):
    """automation_oca renders and sends each mail on its own (the composer's
    ``force_send``), so the generation includes the delivery. It is slow enough that
    only the first ``BENCH_OCA_EMAIL_LIMIT`` steps are measured; the others then run
    unmeasured with the sending left out, so that the next stages have every mail."""
    flow = state["flow"]
    limit = int(os.environ.get("BENCH_OCA_EMAIL_LIMIT") or 0) or None
    make_due(env, flow["email"], limit)
    env.cr.commit()  # the composer commits each mail (auto_commit): start clean
    before = common.sink_count()
    measure.run("generation", lambda: run_cron(env))
    env.cr.commit()  # the mail queue commits each mail it sends: start from a clean state
    common.deliver(env, measure)
    measure.extra["delivered"] = common.sink_count() - before
    measure.records = count_steps(env, flow["email"])
    if limit and measure.records < len(state["contacts"]):
        measure.extra["measured_subset"] = measure.records
        make_due(env, flow["email"])
        Step = type(env["automation.record.step"])
        with mock.patch.object(Step, "_run_mail", _mail_not_sent):
            run_cron(env)


def _mail_not_sent(step):
    step.mail_status = "sent"
    return True


def _mail_steps(env, state, res_ids):
    return env["automation.record.step"].search(
        [
            ("configuration_step_id", "=", state["flow"]["email"]),
            ("record_id.res_id", "in", res_ids),
        ]
    )


def stage_opens(env, measure, state, **_tools):
    steps = _mail_steps(env, state, common.opened_contacts(state["contacts"]))
    measure.run("opens", steps._set_mail_open)
    measure.records = len(steps)
    measure.extra["children_scheduled"] = env["automation.record.step"].search_count(
        [
            ("configuration_step_id", "=", state["flow"]["opened"]),
            ("state", "=", "scheduled"),
            ("scheduled_date", "!=", False),
        ]
    )


def stage_open_one(env, measure, state, **_tools):
    warm_up, res_id = common.unopened_contacts(state["contacts"], 2)
    # sudo: as automation_oca's public tracking route records an open; the first one warms
    # the caches
    _mail_steps(env, state, [warm_up]).sudo()._set_mail_open()
    env.cr.commit()  # the warm-up is not measured
    step = _mail_steps(env, state, [res_id]).sudo()
    measure.run("open", step._set_mail_open)
    measure.records = 1


def stage_opened_child(env, measure, state, **_tools):
    measure.run("execute", lambda: run_cron(env))
    measure.records = count_steps(env, state["flow"]["opened"])


def stage_not_opened(env, measure, state, shifted_now, **_tools):
    with shifted_now(NOT_OPENED_DAYS + 1 / 24):
        measure.run("execute", lambda: run_cron(env))
    measure.records = count_steps(env, state["flow"]["not_opened"])
    measure.extra["rejected_as_opened"] = count_steps(env, state["flow"]["not_opened"], "rejected")


def _stage_action(key):
    def stage(env, measure, state, **_tools):
        ids = state["actions"].get(key)
        if not ids:
            measure.extra["skipped"] = "automation_oca runs its actions record by record"
            return
        configuration = env["automation.configuration"].browse(ids["configuration"])
        configuration.run_automation()
        make_due(env, ids["step"])
        env.cr.commit()  # the enrolment is not measured: the execution starts clean
        measure.run("execute", lambda: run_cron(env))
        measure.records = count_steps(env, ids["step"])

    return stage


stage_action_noop = _stage_action("noop")
stage_action_tag = _stage_action("tag")


def insert_future_steps(env, count):
    """``count`` records with one step each, due in a week, in SQL."""
    action = server_action(env, "Bench: future", common.NOOP_CODE)
    configuration, [step] = create_configuration(
        env,
        "Bench future",
        "bench-none",
        [
            {
                "name": "Future",
                "step_type": "action",
                "server_action_id": action.id,
                "trigger_type": "start",
                "trigger_interval": 168,
            }
        ],
    )
    env.flush_all()
    env.cr.execute(
        """
        INSERT INTO automation_record (configuration_id, model, res_id, state, is_test,
                    is_orphan_record, create_uid, create_date, write_uid, write_date)
        SELECT %(configuration)s, 'res.partner', 100000000 + n, 'run', FALSE, FALSE,
               2, now() at time zone 'UTC', 2, now() at time zone 'UTC'
          FROM generate_series(1, %(count)s) n
        """,
        {"configuration": configuration.id, "count": count},
    )
    env.cr.execute(
        """
        INSERT INTO automation_record_step (record_id, configuration_step_id,
                    configuration_id, name, step_type, trigger_type, state, is_test,
                    do_not_wait, parent_position, scheduled_date,
                    create_uid, create_date, write_uid, write_date)
        SELECT id, %(step)s, configuration_id, 'Future', 'action', 'start', 'scheduled',
               FALSE, FALSE, 0,
               now() at time zone 'UTC' + interval '7 days' + (id %% 1000) * interval '1 minute',
               2, now() at time zone 'UTC', 2, now() at time zone 'UTC'
          FROM automation_record WHERE configuration_id = %(configuration)s
        """,
        {"step": step.id, "configuration": configuration.id},
    )
    env.cr.execute("ANALYZE automation_record")
    env.cr.execute("ANALYZE automation_record_step")


def stage_due_scan(env, measure, state, size, capture, explain, **_tools):
    insert_future_steps(env, size)
    env.cr.commit()  # the steps are data for the scan, not part of it
    run_cron(env)
    measure.repeat("scan", lambda: run_cron(env), 20)
    with capture() as captured:
        run_cron(env)
    measure.extra["explain"] = explain(env, captured.queries, "automation_record_step")
    env.cr.execute(
        "SELECT count(*) FROM automation_record_step WHERE state = 'scheduled' "
        "AND scheduled_date > now() at time zone 'UTC'"
    )
    measure.records = env.cr.fetchone()[0]
