"""The README's screenshots, taken from the real UI.

Serve a database with the demo data, scheduler off (mails stay queued), then run this:

    ./dev run --db mac_screenshots --port 8071 --max-cron-threads=0
    python3 tools/readme_screenshots.py --url http://127.0.0.1:8071 --db mac_screenshots

It runs the demo campaign further over RPC (its traces spread over the last days and some
mails marked opened or clicked, so that the blocks have figures), launches a test on one
contact and runs its email, then writes static/description/workflow_editor.png,
test_screen.png and the Reporting views report_traces.png and report_link_tracker.png.
"""

import argparse
import datetime
import sys
import xmlrpc.client
from pathlib import Path

from screenshot import Browser, login

OUT = Path(__file__).resolve().parent.parent / "static" / "description"


class Rpc:
    def __init__(self, url, db, user, password):
        self.db, self.password = db, password
        self.uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(
            db, user, password, {}
        )
        self.object = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def __call__(self, model, method, *args, **kwargs):
        return self.object.execute_kw(
            self.db, self.uid, self.password, model, method, list(args), kwargs
        )

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        [data] = self(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )
        return data["res_id"]


def prepare(rpc):
    """Run the demo campaign and launch a test; return (campaign id, test participant id)."""
    module = "marketing_automation_community"
    campaign = rpc.ref(f"{module}.demo_campaign_welcome")
    welcome = rpc.ref(f"{module}.demo_activity_welcome")
    reminder = rpc.ref(f"{module}.demo_activity_reminder")
    rpc("marketing.campaign", "action_start_campaign", [campaign])
    rpc("marketing.campaign", "sync_participants", [campaign])
    now = datetime.datetime.now().replace(microsecond=0)
    make_due(rpc, welcome, now)
    rpc("marketing.campaign", "execute_activities", [campaign])
    traces = rpc(
        "marketing.trace",
        "search_read",
        [("activity_id", "=", welcome), ("is_test", "=", False)],
        ["state"],
        order="id",
    )
    for index, trace in enumerate(traces):
        day = now - datetime.timedelta(days=(index * 5) % 12, hours=index % 7)
        rpc("marketing.trace", "write", [trace["id"]], {"schedule_date": day.isoformat(" ")})
    processed = [trace["id"] for trace in traces if trace["state"] == "processed"]
    mailing_traces = rpc(
        "mailing.trace", "search", [("marketing_trace_id", "in", processed)], order="id"
    )
    stamp = now.isoformat(" ")
    rpc("mailing.trace", "write", mailing_traces, {"trace_status": "sent", "sent_datetime": stamp})
    opened = mailing_traces[: len(mailing_traces) * 2 // 3]
    rpc("mailing.trace", "write", opened, {"trace_status": "open", "open_datetime": stamp})
    rpc("mailing.trace", "write", opened[:4], {"links_click_datetime": stamp})
    rpc("mailing.trace", "write", opened[4:6], {"trace_status": "reply", "reply_datetime": stamp})
    rpc("mailing.trace", "write", mailing_traces[-1:], {"trace_status": "bounce"})
    make_due(rpc, reminder, now)
    rpc("marketing.campaign", "execute_activities", [campaign])
    contact = rpc(
        "res.partner",
        "search",
        [("email", "!=", False), ("is_company", "=", False), ("city", "!=", "Tracy")],
        limit=1,
    )
    wizard = rpc(
        "marketing.campaign.test", "create", {"campaign_id": campaign, "res_id": contact[0]}
    )
    participant = rpc("marketing.campaign.test", "action_launch_test", [wizard])["res_id"]
    [root_trace] = rpc(
        "marketing.trace",
        "search",
        [("participant_id", "=", participant), ("activity_id", "=", welcome)],
    )
    rpc("marketing.trace", "action_execute", [root_trace])
    return campaign, participant


def make_due(rpc, activity, now):
    """Move the planned traces of ``activity`` (its delay not yet over) to now."""
    due = rpc(
        "marketing.trace",
        "search",
        [
            ("activity_id", "=", activity),
            ("state", "=", "scheduled"),
            ("schedule_date", "!=", False),
            ("is_test", "=", False),
        ],
    )
    rpc("marketing.trace", "write", due, {"schedule_date": now.isoformat(" ")})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8071")
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    rpc = Rpc(args.url, args.db, "admin", "admin")
    campaign, participant = prepare(rpc)
    browser = Browser(1280, 1500)
    try:
        login(browser, args.url, args.db, "admin", "admin")
        shots = [
            (
                f"/odoo/marketing-automation/{campaign}",
                ".o_ma_activity_chart canvas",
                "workflow_editor.png",
            ),
            (
                f"/odoo/marketing-automation/{campaign}/action-marketing_automation_community.marketing_participant_action/{participant}",
                ".o_ma_trace_tree",
                "test_screen.png",
            ),
            (
                "/odoo/action-marketing_automation_community.marketing_trace_report_action",
                ".o_graph_canvas_container canvas",
                "report_traces.png",
            ),
            (
                "/odoo/action-marketing_automation_community.link_tracker_click_action",
                ".o_graph_canvas_container canvas",
                "report_link_tracker.png",
            ),
        ]
        for page, selector, name in shots:
            browser.shoot(f"{args.url}{page}", selector, OUT / name)
            sys.stdout.write(f"wrote {OUT / name}\n")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
