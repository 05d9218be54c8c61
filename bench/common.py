"""What the three products share in the benchmark: the contacts, the mail, the
selection of opened mails, the delivery through Odoo's mail queue."""

import os
from pathlib import Path

SUBJECT = "Bench offer"
BODY = (
    '<p>Hello <t t-out="object.name"/>, discover '
    '<a href="https://www.example.com/offer">our offer</a>.</p>'
)
SMS_BODY = "Our offer is still waiting for you: https://www.example.com/offer"
MAIN_REF = "bench-main"
# a server action that does nothing, and one that tags the records it gets
NOOP_CODE = "pass"
# the no-op for the whole batch: the engine runs once per batch only code naming `records`
NOOP_BATCH_CODE = "records"
TAG_CODE = "records.write({'category_id': [Command.link(%d)]})"
OPEN_RATIO = 0.3


def insert_contacts(env, size, ref):
    """``size`` contacts with an email and a mobile number, in one INSERT (the same
    rows in each product's database); return their ids in creation order."""
    env.cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'res_partner'"
    )
    columns = {row[0] for row in env.cr.fetchall()}
    values = {
        "name": "'Contact ' || n",
        "complete_name": "'Contact ' || n",
        "email": "'contact' || n || '@' || %(ref)s || '.example.com'",
        "email_normalized": "'contact' || n || '@' || %(ref)s || '.example.com'",
        "phone": "'+3247' || lpad(n::text, 7, '0')",
        "phone_sanitized": "'+3247' || lpad(n::text, 7, '0')",
        "ref": "%(ref)s",
        "active": "TRUE",
        "type": "'contact'",
        "is_company": "FALSE",
        "partner_share": "TRUE",
        "lang": "'en_US'",
        "color": "0",
        "create_uid": "2",
        "write_uid": "2",
        "create_date": "now() at time zone 'UTC'",
        "write_date": "now() at time zone 'UTC'",
    }
    values = {column: value for column, value in values.items() if column in columns}
    env.cr.execute(
        f"""
        INSERT INTO res_partner ({", ".join(values)})
        SELECT {", ".join(values.values())} FROM generate_series(1, %(size)s) n
     RETURNING id
        """,
        {"ref": ref, "size": size},
    )
    ids = sorted(row[0] for row in env.cr.fetchall())
    env.cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE ref = %s", [ref])
    env.cr.execute("ANALYZE res_partner")
    env.invalidate_all()
    return ids


def contact_domain(ref=MAIN_REF):
    return [("ref", "=", ref)]


def opened_contacts(contact_ids):
    """The contacts whose mail is opened: 3 of every 10, the same in each product."""
    return [res_id for position, res_id in enumerate(contact_ids) if position % 10 < 3]


def unopened_contacts(contact_ids, count):
    """The first ``count`` contacts whose mail is not among the opened ones."""
    opened = set(opened_contacts(contact_ids))
    return [res_id for res_id in contact_ids if res_id not in opened][:count]


def sink_count():
    """The number of messages the SMTP sink received so far."""
    path = os.environ.get("BENCH_SINK_FILE")
    if not path or not Path(path).exists():
        return 0
    with open(path) as handle:
        return sum(1 for _line in handle)


def deliver(env, measure, name="delivery"):
    """Send the mail queue to the SMTP sink, as Odoo's mail cron does (measured as
    the part ``name``); return the number of messages the sink received."""
    before = sink_count()

    def send_queue():
        Mail = env["mail.mail"]
        for _attempt in range(1000):
            if not Mail.search_count([("state", "=", "outgoing")]):
                break
            Mail.process_email_queue()

    measure.run(name, send_queue)
    return sink_count() - before


# the email step is measured this many times on contacts of its own (``--email-contacts``)
EMAIL_RUNS = 3
