"""The stages of this module (``marketing_automation_community``) in the benchmark.

The workflow: a campaign on the contacts whose root activity sends the email at once;
its children are an "Opened" server action (``mail_open``, at once) and a "Not opened
after 1 day" SMS (``mail_not_open``, 1 day). Separate campaigns run a root server
action that does nothing or tags the contact, with and without the activity's
"run once per batch" option when the code has it.
"""

import common

NOT_OPENED_DAYS = 1
# the activity's "Run once per batch" option (an engine measured before it existed lacks it)
BATCH_OPTION = "run_once_per_batch"


def server_action(env, name, code):
    return env["ir.actions.server"].create(
        {
            "name": name,
            "model_id": env["ir.model"]._get_id("res.partner"),
            "state": "code",
            "code": code,
        }
    )


USER_LOGIN = "bench_marketing"


def marketing_user(env):
    """The campaigns' responsible: a Marketing Automation user (not an
    administrator) who may edit contacts, so that his server actions run on
    them; the engine stages run with his rights, as when he clicks."""
    users = env["res.users"].with_context(active_test=False)
    user = users.search([("login", "=", USER_LOGIN)])
    if not user:
        groups = [
            "marketing_automation_community.group_marketing_automation_user",
            "base.group_user",
            "base.group_partner_manager",
        ]
        user = users.create(
            {
                "name": "Bench marketing user",
                "login": USER_LOGIN,
                "groups_id": [(6, 0, [env.ref(xmlid).id for xmlid in groups])],
            }
        )
    return user


def as_user(record):
    """``record`` in the marketing user's environment."""
    return record.with_user(marketing_user(record.env))


def create_campaign(env, name, ref, activities):
    """A running campaign on the contacts of ``ref``, its responsible the marketing
    user; ``activities`` are the values of its activities, each child naming its
    parent by index (``parent``)."""
    campaign = env["marketing.campaign"].create(
        {
            "name": name,
            "model_id": env["ir.model"]._get_id("res.partner"),
            "domain": repr(common.contact_domain(ref)),
        }
    )
    created = []
    for values in activities:
        values = dict(values, campaign_id=campaign.id)
        if "parent" in values:
            values["parent_id"] = created[values.pop("parent")].id
        created.append(env["marketing.activity"].create(values))
    campaign.action_start_campaign()
    # the administrator who built it became responsible: hand it to the marketing user
    campaign.user_id = marketing_user(env)
    return campaign, created


def count_traces(env, activity_id, state="processed"):
    env.flush_all()
    env.cr.execute(
        "SELECT count(*) FROM marketing_trace WHERE activity_id = %s AND state = %s",
        [activity_id, state],
    )
    return env.cr.fetchone()[0]


def action_campaigns(env, tag):
    """The server-action campaigns: (key, action code, batch option) each."""
    noop = server_action(env, "Bench: no-op", common.NOOP_CODE)
    noop_batch = server_action(env, "Bench: no-op (batch)", common.NOOP_BATCH_CODE)
    tagging = server_action(env, "Bench: tag", common.TAG_CODE % tag.id)
    tagging_batch = server_action(env, "Bench: tag (batch)", common.TAG_CODE % tag.id)
    rows = [("noop", noop, False), ("tag", tagging, False)]
    if BATCH_OPTION in env["marketing.activity"]._fields:
        rows += [("noop_batch", noop_batch, True), ("tag_batch", tagging_batch, True)]
    result = {}
    for key, action, batch in rows:
        values = {
            "name": f"Action {key}",
            "activity_type": "action",
            "server_action_id": action.id,
            "trigger_type": "begin",
            "interval_number": 0,
        }
        if batch:
            values[BATCH_OPTION] = True
        campaign, [activity] = create_campaign(
            env, f"Bench action {key}", common.MAIN_REF, [values]
        )
        result[key] = {"campaign": campaign.id, "activity": activity.id}
    return result


def flow_activities(env, mailing):
    """The email, its "Opened" server action and its "Not opened after 1 day" SMS."""
    return [
        {
            "name": "Welcome",
            "activity_type": "email",
            "mass_mailing_id": mailing.id,
            "trigger_type": "begin",
            "interval_number": 0,
        },
        {
            "name": "Opened",
            "activity_type": "action",
            "server_action_id": server_action(env, "Bench: opened", common.NOOP_CODE).id,
            "trigger_type": "mail_open",
            "parent": 0,
            "interval_number": 0,
        },
        {
            "name": "Not opened after 1 day",
            "activity_type": "sms",
            "sms_body": common.SMS_BODY,
            "trigger_type": "mail_not_open",
            "parent": 0,
            "interval_number": NOT_OPENED_DAYS,
            "interval_type": "days",
        },
    ]


# ----------------------------------------------------------------------------------
# stages
# ----------------------------------------------------------------------------------


def stage_prepare(env, measure, state, size, **_tools):
    state["contacts"] = common.insert_contacts(env, size, common.MAIN_REF)
    tag = env["res.partner.category"].create({"name": "Bench tag"})
    mailing = env["mailing.mailing"].create(
        {
            "subject": common.SUBJECT,
            "mailing_type": "mail",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "use_in_marketing_automation": True,
            "body_html": common.BODY,
        }
    )
    campaign, (email, opened, not_opened) = create_campaign(
        env, "Bench flow", common.MAIN_REF, flow_activities(env, mailing)
    )
    state["flow"] = {
        "campaign": campaign.id,
        "email": email.id,
        "opened": opened.id,
        "not_opened": not_opened.id,
        "mailing": mailing.id,
    }
    state["actions"] = action_campaigns(env, tag)


def stage_enrol(env, measure, state, **_tools):
    campaign = as_user(env["marketing.campaign"].browse(state["flow"]["campaign"]))
    measure.run("enrol", campaign.sync_participants)
    measure.records = len(campaign.participant_ids)


def stage_email(env, measure, state, **_tools):
    flow = state["flow"]
    campaign = env["marketing.campaign"].browse(flow["campaign"])
    measure.run("generation", campaign.execute_activities)
    env.cr.commit()  # the mail queue commits each mail it sends: start from a clean state
    measure.extra["delivered"] = common.deliver(env, measure)
    measure.records = count_traces(env, flow["email"])
    measure.extra["mailing_traces"] = env["mailing.trace"].search_count(
        [("mass_mailing_id", "=", flow["mailing"])]
    )


def _mailing_traces(env, state, res_ids):
    return env["mailing.trace"].search(
        [("mass_mailing_id", "=", state["flow"]["mailing"]), ("res_id", "in", res_ids)]
    )


def stage_opens(env, measure, state, **_tools):
    opened = common.opened_contacts(state["contacts"])
    traces = _mailing_traces(env, state, opened)
    measure.run("opens", traces.set_opened)
    measure.records = len(traces)
    measure.extra["children_scheduled"] = env["marketing.trace"].search_count(
        [
            ("activity_id", "=", state["flow"]["opened"]),
            ("state", "=", "scheduled"),
            ("schedule_date", "!=", False),
        ]
    )


def stage_open_one(env, measure, state, **_tools):
    """One open arriving alone, as from the tracking pixel (in sudo, as the public
    route records it), in the large campaign and in a campaign of 10 contacts: the
    queries should not depend on the campaign's size."""
    warm_up, res_id = common.unopened_contacts(state["contacts"], 2)
    small = _small_flow(env)
    small[0].set_opened()  # warm the caches: the measured opens are not the first
    # sudo: as the tracking pixel's public route records an open
    _mailing_traces(env, state, [warm_up]).sudo().set_opened()
    env.cr.commit()  # the small campaign and the warm-up are not measured
    trace = _mailing_traces(env, state, [res_id]).sudo()
    measure.run("open", trace.set_opened)
    measure.records = 1
    # the same conditions: a transaction of its own (Odoo reads the transaction's
    # date once per transaction), a cold cache
    env.cr.commit()
    env.invalidate_all()
    from odoo import sql_db

    before = sql_db.sql_counter
    small[1].set_opened()
    env.flush_all()
    measure.extra["queries_small_campaign"] = sql_db.sql_counter - before


def _small_flow(env):
    """A copy of the flow on 10 contacts, its mails sent: two of its mailing traces."""
    ref = "bench-small"
    common.insert_contacts(env, 10, ref)
    mailing = env["mailing.mailing"].create(
        {
            "subject": common.SUBJECT,
            "mailing_type": "mail",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "use_in_marketing_automation": True,
            "body_html": common.BODY,
        }
    )
    campaign, _activities = create_campaign(
        env, "Bench small flow", ref, flow_activities(env, mailing)
    )
    campaign.sync_participants()
    campaign.execute_activities()
    # sudo: its opens are recorded as the tracking pixel's public route does
    return env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)], limit=2).sudo()


def stage_email_repeat(env, measure, state, size, **_tools):
    """One run of the repeated email step (``bench/run.py`` alternates the runs of
    the products): a new campaign with its own mailing on ``size`` contacts of its
    own, as plain Email Marketing's stage."""
    import os

    ref = f"bench-email-{os.environ.get('BENCH_RUN', '0')}"
    common.insert_contacts(env, size, ref)
    campaign, [email] = create_campaign(
        env, f"Bench {ref}", ref, flow_activities(env, _mailing(env))[:1]
    )
    campaign.sync_participants()
    env.cr.commit()  # the contacts and the enrolment are not measured
    measure.run("generation", campaign.execute_activities)
    env.cr.commit()  # the mail queue commits each mail it sends
    common.deliver(env, measure)
    measure.records = count_traces(env, email.id)


def _mailing(env):
    return env["mailing.mailing"].create(
        {
            "subject": common.SUBJECT,
            "mailing_type": "mail",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "use_in_marketing_automation": True,
            "body_html": common.BODY,
        }
    )


def sent_flow(env, size, ref):
    """The flow on ``size`` new contacts, its emails sent: the participants
    enrolled by the marketing user, then, in SQL, each email trace processed with
    its message (``mailing.trace``, status sent), then the waiting children
    (``_schedule_children``). Return the message ids in order and the activities."""
    common.insert_contacts(env, size, ref)
    mailing = _mailing(env)
    campaign, (email, opened, not_opened) = create_campaign(
        env, f"Bench {ref}", ref, flow_activities(env, mailing)
    )
    as_user(campaign).sync_participants()
    env.flush_all()
    env.cr.execute(
        """
        WITH sent AS (
            UPDATE marketing_trace SET state = 'processed',
                   schedule_date = now() at time zone 'UTC'
             WHERE activity_id = %(email)s
         RETURNING id, res_id
        )
        INSERT INTO mailing_trace (trace_type, model, res_id, mass_mailing_id,
                    marketing_trace_id, marketing_activity_id, email, trace_status,
                    sent_datetime, create_uid, create_date, write_uid, write_date)
        SELECT 'mail', 'res.partner', sent.res_id, %(mailing)s, sent.id, %(email)s,
               partner.email_normalized, 'sent', now() at time zone 'UTC',
               2, now() at time zone 'UTC', 2, now() at time zone 'UTC'
          FROM sent JOIN res_partner partner ON partner.id = sent.res_id
     RETURNING id
        """,
        {"email": email.id, "mailing": mailing.id},
    )
    message_ids = sorted(row[0] for row in env.cr.fetchall())
    env.invalidate_all()
    from odoo import fields

    env["marketing.trace"].search([("activity_id", "=", email.id)])._schedule_children(
        fields.Datetime.now()
    )
    for table in ("marketing_participant", "marketing_trace", "mailing_trace"):
        env.cr.execute(f"ANALYZE {table}")
    return {"messages": message_ids, "opened": opened.id, "not_opened": not_opened.id}


def stage_opens_scale(env, measure, state, size, capture, **_tools):
    """A campaign of ``size`` participants whose emails were sent (in SQL, see
    ``sent_flow``); ``BENCH_OPENS`` of them opened at once, as the mail gateway
    records them (``set_opened`` in sudo): their "Opened" children scheduled,
    their "Not opened" children canceled, measured directly. Then one open
    alone (a warm-up open before it), in this campaign and in one of 10
    contacts, each in a transaction of its own: the queries of both."""
    import os

    opens = min(size, int(os.environ.get("BENCH_OPENS", "30000")))
    large = sent_flow(env, size, f"bench-opens-{size}")
    small = sent_flow(env, 10, "bench-opens-small")
    env.cr.commit()  # the campaigns are not measured
    # sudo: as the mail gateway and the tracking pixel's public route record opens
    Message = env["mailing.trace"].sudo()
    measure.run("opens", Message.browse(large["messages"][:opens]).set_opened)
    measure.records = opens
    measure.extra["campaign_size"] = size
    measure.extra["children_scheduled"] = env["marketing.trace"].search_count(
        [
            ("activity_id", "=", large["opened"]),
            ("state", "=", "scheduled"),
            ("schedule_date", "!=", False),
        ]
    )
    measure.extra["children_canceled"] = count_traces(env, large["not_opened"], "canceled")
    env.cr.commit()
    from odoo import sql_db

    for label, flow in (("large", large), ("small", small)):
        Message.browse(flow["messages"][-2]).set_opened()  # the caches are warm
        env.cr.commit()  # each open alone in a transaction of its own
        env.invalidate_all()
        before = sql_db.sql_counter
        with capture() as captured:
            Message.browse(flow["messages"][-1]).set_opened()
            env.flush_all()
        measure.extra[f"open_one_queries_{label}"] = sql_db.sql_counter - before
        measure.extra[f"open_one_sql_{label}"] = [
            " ".join(str(query).split())[:90] for query in captured.queries
        ]
        env.cr.commit()


def stage_opened_child(env, measure, state, **_tools):
    campaign = env["marketing.campaign"].browse(state["flow"]["campaign"])
    measure.run("execute", campaign.execute_activities)
    measure.records = count_traces(env, state["flow"]["opened"])


def stage_not_opened(env, measure, state, shifted_now, **_tools):
    campaign = env["marketing.campaign"].browse(state["flow"]["campaign"])
    with shifted_now(NOT_OPENED_DAYS + 1 / 24):
        measure.run("execute", campaign.execute_activities)
    measure.records = count_traces(env, state["flow"]["not_opened"])
    measure.extra["sms_queued"] = env["sms.sms"].search_count([])
    measure.extra["canceled_by_open"] = count_traces(env, state["flow"]["not_opened"], "canceled")


def _stage_action(key):
    def stage(env, measure, state, **_tools):
        ids = state["actions"].get(key)
        if not ids:
            measure.extra["skipped"] = "no 'run once per batch' option in this code"
            return
        campaign = as_user(env["marketing.campaign"].browse(ids["campaign"]))
        campaign.sync_participants()
        env.cr.commit()  # the enrolment is not measured: the execution starts clean
        measure.run("execute", campaign.execute_activities)
        measure.records = count_traces(env, ids["activity"])

    return stage


stage_action_noop = _stage_action("noop")
stage_action_tag = _stage_action("tag")
stage_action_noop_batch = _stage_action("noop_batch")
stage_action_tag_batch = _stage_action("tag_batch")


def stage_enrol_scale(env, measure, state, size, **_tools):
    ref = f"bench-s{size}"
    common.insert_contacts(env, size, ref)
    action = server_action(env, f"Bench: scale {size}", common.NOOP_CODE)
    campaign, _activities = create_campaign(
        env,
        f"Bench scale {size}",
        ref,
        [
            {
                "name": "Later",
                "activity_type": "action",
                "server_action_id": action.id,
                "trigger_type": "begin",
                "interval_number": 1,
                "interval_type": "weeks",
            }
        ],
    )
    env.cr.commit()  # the contacts and the campaign are not measured
    parts = timed_parts(
        env,
        {
            "participants": ("marketing.campaign", "_enrol_new_participants"),
            "root_traces": ("marketing.participant", "_create_root_traces"),
        },
    )
    with parts:
        measure.run("enrol", as_user(campaign).sync_participants)
    measure.records = len(campaign.participant_ids)
    # what the call spends where: the INSERT of the participants, the INSERT of
    # their root traces (each row checked against its foreign keys by PostgreSQL),
    # and the rest of the synchronisation (gone records, goal, date re-dating, flush)
    total = measure.parts["enrol"]["seconds"]
    roots = parts.seconds["root_traces"]
    measure.extra["breakdown"] = {
        "participants_insert": parts.seconds["participants"] - roots,
        "root_traces_insert": roots,
        "rest": total - parts.seconds["participants"],
    }
    measure.extra["user"] = USER_LOGIN


class timed_parts:
    """Time the methods ``{name: (model, method)}`` while the block runs (their
    last call each)."""

    def __init__(self, env, methods):
        self.env, self.methods, self.seconds = env, methods, {}

    def __enter__(self):
        import time
        from unittest import mock

        self.patches = []
        for name, (model, method) in self.methods.items():
            cls = type(self.env[model])
            original = getattr(cls, method)

            def timed(*args, _original=original, _name=name, **kwargs):
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.seconds[_name] = time.perf_counter() - started

            patch = mock.patch.object(cls, method, timed)
            patch.start()
            self.patches.append(patch)
        return self

    def __exit__(self, *exc):
        for patch in self.patches:
            patch.stop()


def insert_future_traces(env, count):
    """``count`` participants with one trace each, due in a week, in SQL."""
    action = server_action(env, "Bench: future", common.NOOP_CODE)
    campaign, [activity] = create_campaign(
        env,
        "Bench future",
        "bench-none",
        [
            {
                "name": "Future",
                "activity_type": "action",
                "server_action_id": action.id,
                "trigger_type": "begin",
                "interval_number": 1,
                "interval_type": "weeks",
            }
        ],
    )
    env.flush_all()
    env.cr.execute(
        """
        INSERT INTO marketing_participant (campaign_id, company_id, model_name, res_id,
                    state, is_test, start_date, create_uid, create_date, write_uid, write_date)
        SELECT %(campaign)s, %(company)s, 'res.partner', 100000000 + n, 'running', FALSE,
               now() at time zone 'UTC', 2, now() at time zone 'UTC', 2, now() at time zone 'UTC'
          FROM generate_series(1, %(count)s) n
        """,
        {"campaign": campaign.id, "company": campaign.company_id.id, "count": count},
    )
    env.cr.execute(
        """
        INSERT INTO marketing_trace (participant_id, activity_id, campaign_id, company_id,
                    res_id, is_test, state, schedule_date, create_uid, create_date,
                    write_uid, write_date)
        SELECT id, %(activity)s, campaign_id, company_id, res_id, FALSE, 'scheduled',
               now() at time zone 'UTC' + interval '7 days' + (id %% 1000) * interval '1 minute',
               2, now() at time zone 'UTC', 2, now() at time zone 'UTC'
          FROM marketing_participant WHERE campaign_id = %(campaign)s
        """,
        {"activity": activity.id, "campaign": campaign.id},
    )
    env.cr.execute("ANALYZE marketing_participant")
    env.cr.execute("ANALYZE marketing_trace")


def stage_due_scan(env, measure, state, size, capture, explain, **_tools):
    env.cr.execute(
        "SELECT count(*) FROM marketing_trace WHERE state = 'scheduled' "
        "AND schedule_date > now() at time zone 'UTC'"
    )
    future = env.cr.fetchone()[0]
    if future < size:
        insert_future_traces(env, size - future)
        env.cr.commit()  # the traces are data for the scan, not part of it
    campaigns = env["marketing.campaign"].search([("state", "=", "running")])
    campaigns.execute_activities()  # warm the caches (and run what is due, if anything)
    measure.repeat("scan", campaigns.execute_activities, 20)
    with capture() as captured:
        campaigns.execute_activities()
    measure.extra["explain"] = explain(env, captured.queries, "marketing_trace")
    env.cr.execute(
        "SELECT count(*) FROM marketing_trace WHERE state = 'scheduled' "
        "AND schedule_date > now() at time zone 'UTC'"
    )
    measure.records = env.cr.fetchone()[0]


# ----------------------------------------------------------------------------------
# fault scenarios (bench/faults.py): the data the Odoo servers then run
# ----------------------------------------------------------------------------------

# a server action that logs each of its runs, so that a run twice shows
LOG_CODE = (
    "for record in records:\n"
    "    env.cr.execute('INSERT INTO bench_action_log (res_id) VALUES (%s)', [record.id])"
)


def scheduler_crons(env):
    """The cron jobs of the module's scheduler, active or not."""
    return (
        env["ir.cron"]
        .with_context(active_test=False)
        .search([("model_id.model", "like", "marketing."), ("code", "ilike", "_cron_")], order="id")
    )


def stage_fault_prepare(env, measure, state, size, **_tools):
    """A running campaign on ``size`` contacts: an email at once, then a server
    action that logs its runs; the scheduler has at least as many jobs as the
    scenario has workers (``BENCH_WORKERS``)."""
    import os

    env.cr.execute("CREATE TABLE IF NOT EXISTS bench_action_log (res_id integer)")
    ref = os.environ.get("BENCH_FAULT_REF", "bench-fault")
    state["contacts"] = len(common.insert_contacts(env, size, ref))
    mailing = env["mailing.mailing"].create(
        {
            "subject": common.SUBJECT,
            "mailing_type": "mail",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "use_in_marketing_automation": True,
            "body_html": common.BODY,
        }
    )
    campaign, (email, action) = create_campaign(
        env,
        "Bench faults",
        ref,
        [
            {
                "name": "Welcome",
                "activity_type": "email",
                "mass_mailing_id": mailing.id,
                "trigger_type": "begin",
                "interval_number": 0,
            },
            {
                "name": "Log",
                "activity_type": "action",
                "server_action_id": server_action(env, "Bench: log", LOG_CODE).id,
                "trigger_type": "activity",
                "parent": 0,
                "interval_number": 0,
            },
        ],
    )
    crons = scheduler_crons(env)
    state["scheduler_jobs"] = len(crons)
    workers = int(os.environ.get("BENCH_WORKERS", "1"))
    for index in range(len(crons), workers):
        crons[:1].copy({"name": f"{crons[:1].name} (benchmark copy {index + 1})"})
    state["scheduler_jobs_added"] = max(0, workers - len(crons))
    # as many active jobs as servers: one job runs in one worker at a time
    crons = scheduler_crons(env)
    crons[workers:].write({"active": False})
    crons[:workers].write({"active": True, "nextcall": "2000-01-01 00:00:00"})
    state["scheduler_jobs_active"] = workers
    state["campaign"] = campaign.id
    state["activities"] = {"email": email.id, "action": action.id}
    state["mailing"] = mailing.id


# ----------------------------------------------------------------------------------
# timing (``--timing`` due traces): the send window, the frequency caps and the date
# trigger, as the scheduler's batches and the synchronisation run them
# ----------------------------------------------------------------------------------

# the contacts' time zones, round the world (empty: the responsible's)
TIMING_ZONES = ["Europe/Brussels", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", ""]


def timing_campaign(env, size, ref, values):
    """``size`` contacts of ``ref`` (in SQL, time zones spread round the world) and a
    running campaign of one activity ``values`` on them, its participants enrolled."""
    common.insert_contacts(env, size, ref)
    env.cr.execute(
        "UPDATE res_partner SET tz = NULLIF((%s::varchar[])[1 + id %% %s], '') WHERE ref = %s",
        [TIMING_ZONES, len(TIMING_ZONES), ref],
    )
    env.invalidate_all()
    campaign, [activity] = create_campaign(env, f"Bench {ref}", ref, [values])
    campaign.sync_participants()
    return campaign, activity


def last_saturday_noon(env):
    """Saturday 12:00 UTC of last week: a weekend day on every contact's wall clock."""
    env.cr.execute(
        "SELECT date_trunc('week', now() at time zone 'UTC') - interval '2 days' "
        "+ interval '12 hours'"
    )
    return env.cr.fetchone()[0]


def due_batches(env, activity, date):
    """The traces of ``activity``, all due at ``date``, in the scheduler's batches."""
    from odoo.tools import split_every

    env.flush_all()
    env.cr.execute(
        "UPDATE marketing_trace SET schedule_date = %s, state_msg = NULL "
        "WHERE activity_id = %s RETURNING id",
        [date, activity.id],
    )
    ids = sorted(row[0] for row in env.cr.fetchall())
    env.invalidate_all()
    Trace = env["marketing.trace"]
    batch_size = env["marketing.scheduler"]._get_setting("batch_size")
    return list(split_every(batch_size, ids, Trace.browse))


def report_batches(measure, name, batches, moved):
    part = measure.parts[name]
    measure.extra["batches"] = len(batches)
    measure.extra["queries_per_batch"] = part["queries"] / len(batches) if batches else 0
    measure.extra["rescheduled"] = moved
    measure.extra["rescheduled_per_s"] = moved / part["seconds"] if part["seconds"] else 0


def stage_timing_window(env, measure, state, size, **_tools):
    """Due traces outside their activity's window (weekdays 9-17, due on a Saturday):
    each batch about to run moves its traces to the next opening on the recipient's
    wall clock (``_postpone_outside_window``)."""
    activity_model = env["marketing.activity"]
    if "send_hour_from" not in activity_model._fields:
        measure.extra["skipped"] = "no send window in this code"
        return
    action = server_action(env, "Bench: window", common.NOOP_CODE)
    _campaign, activity = timing_campaign(
        env,
        size,
        "bench-window",
        {
            "name": "Window",
            "activity_type": "action",
            "server_action_id": action.id,
            "trigger_type": "begin",
            "interval_number": 0,
        },
    )
    activity.write({"send_hour_from": 9, "send_hour_to": 17, "send_weekdays_only": True})
    batches = due_batches(env, activity, last_saturday_noon(env))
    env.cr.commit()  # the contacts, the campaign and its traces are not measured

    def postpone():
        return sum(len(activity._postpone_outside_window(batch)) for batch in batches)

    moved = measure.run("window", postpone)
    measure.records = sum(len(batch) for batch in batches)
    report_batches(measure, "window", batches, moved)


def _stage_cap(channel):
    def stage(env, measure, state, size, **_tools):
        """Due traces of a campaign step on ``channel``, the company's cap at one
        message a week; half of the recipients got one yesterday from another
        campaign: each batch about to send holds those over the cap
        (``_hold_over_cap``)."""
        Trace = env["marketing.trace"]
        company = env.company
        cap_field = f"marketing_{channel}_cap"
        if cap_field not in company._fields or not hasattr(Trace, "_hold_over_cap"):
            measure.extra["skipped"] = f"no {channel} frequency cap in this code"
            return
        ref = f"bench-cap-{channel}"

        def step(name):
            if channel == "sms":
                content = {"activity_type": "sms", "sms_body": common.SMS_BODY}
            else:
                mailing = env["mailing.mailing"].create(
                    {
                        "subject": f"{common.SUBJECT} ({name})",
                        "mailing_type": "mail",
                        "mailing_model_id": env["ir.model"]._get_id("res.partner"),
                        "use_in_marketing_automation": True,
                        "body_html": common.BODY,
                    }
                )
                content = {"activity_type": "email", "mass_mailing_id": mailing.id}
            return {"name": name, "trigger_type": "begin", "interval_number": 0, **content}

        _campaign, activity = timing_campaign(env, size, ref, step("Capped"))
        # yesterday's messages of another campaign to the contacts of even id
        history, [sent] = create_campaign(env, f"Bench {ref} history", ref, [step("Sent")])
        history.sync_participants()
        env.flush_all()
        env.cr.execute(
            """
            WITH sent AS (
                UPDATE marketing_trace SET state = 'processed',
                       schedule_date = now() at time zone 'UTC' - interval '1 day'
                 WHERE activity_id = %(activity)s AND res_id %% 2 = 0
             RETURNING id, res_id
            )
            INSERT INTO mailing_trace (trace_type, model, res_id, marketing_trace_id,
                        trace_status, email, sms_number, create_date, write_date)
            SELECT %(trace_type)s, 'res.partner', sent.res_id, sent.id, 'sent',
                   partner.email_normalized, partner.phone_sanitized,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM sent JOIN res_partner partner ON partner.id = sent.res_id
            """,
            {"activity": sent.id, "trace_type": "mail" if channel == "email" else "sms"},
        )
        company.write({cap_field: 1, f"{cap_field}_days": 7})
        env.cr.execute("ANALYZE marketing_trace")
        env.cr.execute("ANALYZE mailing_trace")
        batches = due_batches(env, activity, env.cr.now())
        env.cr.commit()  # the contacts, the campaigns and the history are not measured
        now = env.cr.now()

        def hold():
            return sum(len(batch - batch._hold_over_cap(channel, now)) for batch in batches)

        held = measure.run("cap", hold)
        measure.records = sum(len(batch) for batch in batches)
        report_batches(measure, "cap", batches, held)
        company.write({cap_field: 0})

    return stage


stage_timing_cap = _stage_cap("email")
stage_timing_cap_sms = _stage_cap("sms")


def stage_timing_redate(env, measure, state, size, **_tools):
    """A step 3 days before a date of the contact (a custom date field); every date
    moves by a day: the synchronisation re-dates the waiting traces
    (``sync_participants``, set-based)."""
    if "date" not in dict(env["marketing.activity"]._fields["trigger_type"].selection):
        measure.extra["skipped"] = "no date trigger in this code"
        return
    field = env["ir.model.fields"].create(
        {
            "name": "x_bench_date",
            "field_description": "Bench Date",
            "model_id": env["ir.model"]._get_id("res.partner"),
            "ttype": "date",
        }
    )
    ref = "bench-redate"
    common.insert_contacts(env, size, ref)
    env.cr.execute(
        "UPDATE res_partner SET x_bench_date = current_date + 30 + id %% 60, "
        "tz = NULLIF((%s::varchar[])[1 + id %% %s], '') WHERE ref = %s",
        [TIMING_ZONES, len(TIMING_ZONES), ref],
    )
    env.invalidate_all()
    action = server_action(env, "Bench: before the date", common.NOOP_CODE)
    campaign, [activity] = create_campaign(
        env,
        "Bench re-date",
        ref,
        [
            {
                "name": "Before the date",
                "activity_type": "action",
                "server_action_id": action.id,
                "trigger_type": "date",
                "date_field_id": field.id,
                "date_offset": "before",
                "interval_number": 3,
                "interval_type": "days",
            }
        ],
    )
    campaign.sync_participants()
    env.flush_all()
    env.cr.execute(
        "CREATE TEMPORARY TABLE bench_redate AS "
        "SELECT id, schedule_date FROM marketing_trace WHERE activity_id = %s",
        [activity.id],
    )
    env.cr.execute("UPDATE res_partner SET x_bench_date = x_bench_date + 1 WHERE ref = %s", [ref])
    env.cr.commit()  # the contacts, the enrolment and the moved dates are not measured
    measure.run("sync", campaign.sync_participants)
    env.cr.execute(
        "SELECT count(*), count(*) FILTER (WHERE trace.schedule_date <> before.schedule_date) "
        "FROM marketing_trace trace JOIN bench_redate before ON before.id = trace.id"
    )
    measure.records, moved = env.cr.fetchone()
    part = measure.parts["sync"]
    measure.extra["rescheduled"] = moved
    measure.extra["rescheduled_per_s"] = moved / part["seconds"] if part["seconds"] else 0


# ----------------------------------------------------------------------------------
# experiments and goals (issue #18): an A/B split over ``--split`` participants, the
# goal check over ``--goal`` running participants
# ----------------------------------------------------------------------------------


def stage_split(env, measure, state, size, **_tools):
    """A root A/B split (two branches of 50 %, each a server action a day later, so
    that the stage measures the assignment only) over ``size`` participants: the
    scheduler's batches (``execute_activities``) send each down one branch and
    schedule that branch's trace (participants/s, queries per batch)."""
    if "split_weight" not in env["marketing.activity"]._fields:
        measure.extra["skipped"] = "no A/B split in this code"
        return
    ref = "bench-split"
    common.insert_contacts(env, size, ref)
    action = server_action(env, "Bench: branch", common.NOOP_BATCH_CODE)
    branch = {
        "activity_type": "action",
        "server_action_id": action.id,
        "trigger_type": "activity",
        "parent": 0,
        "split_weight": 50,
        "interval_number": 1,
        "interval_type": "days",
        BATCH_OPTION: True,
    }
    campaign, (split, branch_a, branch_b) = create_campaign(
        env,
        "Bench split",
        ref,
        [
            {
                "name": "Split",
                "activity_type": "split",
                "trigger_type": "begin",
                "interval_number": 0,
            },
            dict(branch, name="Branch A"),
            dict(branch, name="Branch B"),
        ],
    )
    campaign.sync_participants()
    env.cr.commit()  # the contacts and the enrolment are not measured
    measure.run("split", campaign.execute_activities)
    measure.records = count_traces(env, split.id)
    env.cr.execute(
        "SELECT activity_id, count(*) FROM marketing_trace WHERE activity_id IN %s "
        "GROUP BY activity_id",
        [(branch_a.id, branch_b.id)],
    )
    counts = dict(env.cr.fetchall())
    measure.extra["branches"] = [counts.get(branch_a.id, 0), counts.get(branch_b.id, 0)]
    batch_size = env["marketing.scheduler"]._get_setting("batch_size")
    batches = -(-measure.records // batch_size) if measure.records else 0
    measure.extra["batches"] = batches
    queries = measure.parts["split"]["queries"]
    measure.extra["queries_per_batch"] = queries / batches if batches else 0


def stage_goal(env, measure, state, size, **_tools):
    """A campaign goal (the tag "Bench customer") over ``size`` running
    participants, one in ten of them tagged: the synchronisation's goal check
    (``sync_participants`` → ``_reach_goal``) completes those, their waiting
    steps canceled, in one statement (time of one check)."""
    if "goal_domain" not in env["marketing.campaign"]._fields:
        measure.extra["skipped"] = "no campaign goal in this code"
        return
    ref = "bench-goal"
    common.insert_contacts(env, size, ref)
    action = server_action(env, "Bench: goal", common.NOOP_CODE)
    campaign, [activity] = create_campaign(
        env,
        "Bench goal",
        ref,
        [
            {
                "name": "Later",
                "activity_type": "action",
                "server_action_id": action.id,
                "trigger_type": "begin",
                "interval_number": 1,
                "interval_type": "weeks",
            }
        ],
    )
    campaign.sync_participants()
    tag = env["res.partner.category"].create({"name": "Bench customer"})
    env.flush_all()
    env.cr.execute(
        "INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id) "
        "SELECT id, %s FROM res_partner WHERE ref = %s AND id %% 10 = 0",
        [tag.id, ref],
    )
    env.cr.execute("ANALYZE res_partner_res_partner_category_rel")
    env.cr.execute("ANALYZE marketing_participant")
    env.invalidate_all()
    campaign.goal_domain = repr([("category_id", "in", [tag.id])])
    env.cr.commit()  # the contacts, the enrolment and the tags are not measured
    env.cr.execute(
        "SELECT count(*) FROM marketing_participant WHERE campaign_id = %s AND state = 'running'",
        [campaign.id],
    )
    measure.records = env.cr.fetchone()[0]
    measure.run("goal", campaign.sync_participants)
    env.cr.execute(
        "SELECT count(*) FILTER (WHERE goal_reached_date IS NOT NULL), "
        "count(*) FILTER (WHERE state = 'running') "
        "FROM marketing_participant WHERE campaign_id = %s",
        [campaign.id],
    )
    measure.extra["reached"], measure.extra["still_running"] = env.cr.fetchone()
    measure.extra["canceled"] = count_traces(env, activity.id, "canceled")
