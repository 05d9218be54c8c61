"""One measure of the benchmark, run by ``./dev bench`` inside ``odoo shell``.

The environment names the scenario and the number of recipients:

- ``plain``: Odoo's Email Marketing sends one mailing to N new contacts
  (``mailing.mailing.action_send_mail``), the reference;
- ``campaign``: a running campaign whose root activity is the same email, 0 hours,
  enrols the N contacts (``sync_participants``) and runs the due traces
  (``execute_activities``).

Both end with N mails queued for Odoo's mail queue, as Odoo sends marketing mail. The
script prints one line ``BENCH {json}`` with the wall time and the number of SQL queries
of each step, or with BENCH_MEMORY set, the peak of the Python memory each step allocates.
"""

import json
import os
import time
import tracemalloc

from odoo import fields

BODY = (
    "<p>Hello <t t-out='object.name'/>, discover "
    "<a href='https://www.example.com/offer'>our offer</a>.</p>"
)


def measure(env, function):
    """Wall time and queries of ``function``; with BENCH_MEMORY, the peak of the Python
    memory it allocates instead (tracing slows it down: the time is then not reported)."""
    env.flush_all()
    env.invalidate_all()
    queries = env.cr.sql_log_count
    trace_memory = bool(os.environ.get("BENCH_MEMORY"))
    if trace_memory:
        tracemalloc.start()
    started = time.perf_counter()
    function()
    env.flush_all()
    seconds = time.perf_counter() - started
    if not trace_memory:
        return {"seconds": round(seconds, 3), "queries": env.cr.sql_log_count - queries}
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"peak_memory_mb": round(peak / 2**20, 1)}


def create_contacts(env, label, size):
    contacts = env["res.partner"].create(
        [
            {"name": f"Bench {label} {index}", "email": f"bench.{label}.{index}@example.com"}
            for index in range(size)
        ]
    )
    env.cr.commit()
    return contacts


def create_mailing(env, label, use_in_marketing_automation):
    return env["mailing.mailing"].create(
        {
            "subject": f"Bench {label}",
            "mailing_type": "mail",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "use_in_marketing_automation": use_in_marketing_automation,
            "body_html": BODY,
        }
    )


def bench_plain(env, label, contacts):
    mailing = create_mailing(env, label, False)
    mailing.mailing_domain = repr([("id", "in", contacts.ids)])
    env.cr.commit()
    steps = {"send": measure(env, mailing.action_send_mail)}
    sent = env["mail.mail"].search_count([("mailing_id", "=", mailing.id)])
    return steps, sent


def bench_campaign(env, label, contacts):
    campaign = env["marketing.campaign"].create(
        {
            "name": f"Bench {label}",
            "model_id": env["ir.model"]._get_id("res.partner"),
            "domain": repr([("id", "in", contacts.ids)]),
        }
    )
    activity = env["marketing.activity"].create(
        {
            "name": "Welcome",
            "campaign_id": campaign.id,
            "activity_type": "email",
            "mass_mailing_id": create_mailing(env, label, True).id,
            "trigger_type": "begin",
            "interval_number": 0,
        }
    )
    campaign.action_start_campaign()
    env.cr.commit()
    steps = {
        "enrol": measure(env, campaign.sync_participants),
        "execute": measure(env, campaign.execute_activities),
    }
    env.cr.commit()
    sent = env["mail.mail"].search_count([("mailing_id", "=", activity.mass_mailing_id.id)])
    return steps, sent


def main(env):
    scenario = os.environ["BENCH_SCENARIO"]
    size = int(os.environ["BENCH_SIZE"])
    label = f"{scenario}-{size}-{fields.Datetime.now():%H%M%S}"
    contacts = create_contacts(env, label, size)
    runner = {"plain": bench_plain, "campaign": bench_campaign}[scenario]
    steps, sent = runner(env, label, contacts)
    env.cr.commit()
    result = {"scenario": scenario, "size": size, "mails_queued": sent, "steps": steps}
    print("BENCH " + json.dumps(result), flush=True)


main(env)  # noqa: F821 - ``env`` is given by ``odoo shell``
