"""Plain Odoo Email Marketing in the benchmark: the floor of the email step (one
mailing to the same contacts, ``action_send_mail``, then the mail queue) and the cost
of recording the opens themselves (``mailing.trace.set_opened``)."""

import common


def stage_prepare(env, measure, state, size, **_tools):
    state["contacts"] = common.insert_contacts(env, size, common.MAIN_REF)
    mailing = env["mailing.mailing"].create(
        {
            "subject": common.SUBJECT,
            "mailing_type": "mail",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "mailing_domain": repr(common.contact_domain()),
            "body_html": common.BODY,
        }
    )
    state["mailing"] = mailing.id


def stage_email(env, measure, state, **_tools):
    mailing = env["mailing.mailing"].browse(state["mailing"])
    measure.run("generation", mailing.action_send_mail)
    env.cr.commit()  # the mail queue commits each mail it sends: start from a clean state
    measure.extra["delivered"] = common.deliver(env, measure)
    measure.records = env["mailing.trace"].search_count([("mass_mailing_id", "=", mailing.id)])
    measure.extra["mailing_traces"] = measure.records


def stage_opens(env, measure, state, **_tools):
    traces = env["mailing.trace"].search(
        [
            ("mass_mailing_id", "=", state["mailing"]),
            ("res_id", "in", common.opened_contacts(state["contacts"])),
        ]
    )
    measure.run("opens", traces.set_opened)
    measure.records = len(traces)


def stage_open_one(env, measure, state, **_tools):
    warm_up, res_id = common.unopened_contacts(state["contacts"], 2)
    traces = env["mailing.trace"].search(
        [("mass_mailing_id", "=", state["mailing"]), ("res_id", "in", [warm_up, res_id])]
    )
    # sudo: as the tracking pixel's public route records an open; the first one warms the caches
    traces.filtered(lambda t: t.res_id == warm_up).sudo().set_opened()
    env.cr.commit()  # the warm-up is not measured
    trace = traces.filtered(lambda t: t.res_id == res_id).sudo()
    measure.run("open", trace.set_opened)
    measure.records = 1


def stage_email_repeat(env, measure, state, size, **_tools):
    """One run of the repeated email step (``bench/run.py`` alternates the runs of
    the products): a new mailing on ``size`` contacts of its own."""
    import os

    ref = f"bench-email-{os.environ.get('BENCH_RUN', '0')}"
    common.insert_contacts(env, size, ref)
    mailing = env["mailing.mailing"].create(
        {
            "subject": common.SUBJECT,
            "mailing_type": "mail",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "mailing_domain": repr(common.contact_domain(ref)),
            "body_html": common.BODY,
        }
    )
    env.cr.commit()  # the contacts and the mailing are not measured
    measure.run("generation", mailing.action_send_mail)
    env.cr.commit()  # the mail queue commits each mail it sends
    common.deliver(env, measure)
    measure.records = env["mailing.trace"].search_count([("mass_mailing_id", "=", mailing.id)])
