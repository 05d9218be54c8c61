"""The README's screenshots, taken from the real UI with headless Chromium (DevTools protocol).

``./dev screenshots`` runs this with Odoo's Python against a new database with the demo data,
served with the scheduler off (mails stay queued):

    python3 devtools/readme_screenshots.py --url http://127.0.0.1:8071 --db mac_screenshots

It runs the demo campaign further over RPC (its traces spread over the last days and some
mails marked opened or clicked, so that the blocks have figures), launches a test on one
contact and runs its email, then writes static/description/workflow_editor.png,
test_screen.png, the Reporting views report_traces.png and report_link_tracker.png, the
workflow on a phone (390 x 844, Odoo's mobile layout) workflow_phone.png and, once the
campaigns are archived, the template cards a new user sees, template_cards.png.
"""

import argparse
import base64
import datetime
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import xmlrpc.client
from pathlib import Path

import websocket
from PIL import Image  # Odoo's own requirement

OUT = Path(__file__).resolve().parent.parent / "static" / "description"


def optimise(path, limit=250_000):
    """Compress ``path`` again, down to 256 colours when it is still over ``limit`` bytes
    (the interface's flat colours lose nothing visible)."""
    with Image.open(path) as image:
        image.load()
    image.save(path, optimize=True)
    if path.stat().st_size > limit:
        image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(
            path, optimize=True
        )


class Browser:
    """A headless Chromium driven through its DevTools protocol."""

    def __init__(self, width, height):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            sys.exit("Chromium is not installed: apt-get install chromium")
        with socket.socket() as sock:  # a port nothing listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="mac-shot-")
        self.proc = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--remote-debugging-port={port}",
                f"--window-size={width},{height}",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pages = []
        for _attempt in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as response:
                    pages = [p for p in json.load(response) if p["type"] == "page"]
            except OSError:
                pages = []  # Chromium is not listening yet
            if pages:
                break
            time.sleep(0.1)
        if not pages:
            self.close_browser()
            sys.exit(f"Chromium did not open its DevTools port {port}")
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        return result["result"].get("value")

    def goto(self, url):
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete'")

    def wait(self, condition, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(f"Boolean({condition})"):
                return
            time.sleep(0.2)
        raise TimeoutError(condition)

    def shoot(self, url, selector, path, fit=None):
        """Open ``url``, wait for ``selector``, and write the page as a PNG (down to the
        bottom of the ``fit`` element only, when given: no empty screen under it)."""
        self.goto(url)
        self.wait(f"document.querySelector({json.dumps(selector)})")
        time.sleep(1.5)  # charts drawn, fonts loaded
        self.screenshot(path, fit)

    def screenshot(self, path, fit=None):
        params = {"format": "png"}
        if fit:
            width, bottom = self.evaluate(
                f"[window.innerWidth, document.querySelector({json.dumps(fit)})"
                ".getBoundingClientRect().bottom]"
            )
            height = min(bottom + 16, self.evaluate("window.innerHeight"))
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        data = self.call("Page.captureScreenshot", **params)["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        optimise(path)

    def emulate(self, width, height, mobile=False, scale=1):
        """Show the next pages as a screen of ``width`` x ``height`` CSS pixels (a phone with
        touch when ``mobile``): headless Chromium keeps its windows at least 500 px wide."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=scale,
            mobile=mobile,
        )
        self.call("Emulation.setTouchEmulationEnabled", enabled=mobile, maxTouchPoints=5)

    def close(self):
        self.ws.close()
        self.close_browser()

    def close_browser(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def login(browser, url, db, user, password):
    browser.call("Page.enable")
    browser.call("Runtime.enable")
    browser.goto(f"{url}/web/login")
    credentials = json.dumps(
        {"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": password}}
    )
    browser.evaluate(
        "fetch('/web/session/authenticate', {method: 'POST', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(credentials)}}})"
        ".then((response) => response.json())"
    )


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

    def write_as_superuser(self, model, ids, values):
        """Write what the interface refuses, such as the dates of the engine's traces, with a
        server action whose code runs as superuser (deleted afterwards)."""
        [model_id] = self("ir.model", "search", [("model", "=", model)])
        code = f"env[{model!r}].browse({list(ids)!r}).sudo().write({values!r})"
        action = self(
            "ir.actions.server",
            "create",
            {"name": "README screenshots", "model_id": model_id, "state": "code", "code": code},
        )
        self("ir.actions.server", "run", [action])
        self("ir.actions.server", "unlink", [action])

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
        rpc.write_as_superuser(
            "marketing.trace", [trace["id"]], {"schedule_date": day.isoformat(" ")}
        )
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
    rpc.write_as_superuser("marketing.trace", due, {"schedule_date": now.isoformat(" ")})


def shoot_phone_workflow(browser, url):
    """The campaign form on a phone, scrolled to its workflow: Odoo's mobile layout."""
    browser.emulate(390, 844, mobile=True, scale=2)
    browser.goto(url)
    browser.wait("document.querySelector('.o_ma_workflow .o_ma_activity_chart canvas')")
    browser.evaluate("document.querySelector('.o_ma_workflow').scrollIntoView({block: 'start'})")
    time.sleep(1.5)  # charts drawn after the scroll
    browser.screenshot(OUT / "workflow_phone.png")
    sys.stdout.write(f"wrote {OUT / 'workflow_phone.png'}\n")


def shoot_template_cards(browser, rpc, url):
    """The template cards a new user sees while no campaign exists: the campaigns are
    archived first, so this shot comes last."""
    campaigns = rpc("marketing.campaign", "search", [])
    rpc("marketing.campaign", "write", campaigns, {"active": False})
    browser.emulate(1440, 900)
    browser.shoot(
        url,
        ".o_marketing_campaign_template",
        OUT / "template_cards.png",
        fit=".o_marketing_campaign_template_grid",
    )
    sys.stdout.write(f"wrote {OUT / 'template_cards.png'}\n")


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
                None,
            ),
            (
                f"/odoo/marketing-automation/{campaign}/action-marketing_automation_community.marketing_participant_action/{participant}",
                ".o_ma_trace_tree",
                "test_screen.png",
                ".o_form_sheet",
            ),
            (
                "/odoo/action-marketing_automation_community.marketing_trace_report_action",
                ".o_graph_canvas_container canvas",
                "report_traces.png",
                None,
            ),
            (
                "/odoo/action-marketing_automation_community.link_tracker_click_action",
                ".o_graph_canvas_container canvas",
                "report_link_tracker.png",
                None,
            ),
        ]
        for page, selector, name, fit in shots:
            browser.shoot(f"{args.url}{page}", selector, OUT / name, fit)
            sys.stdout.write(f"wrote {OUT / name}\n")
        shoot_phone_workflow(browser, f"{args.url}/odoo/marketing-automation/{campaign}")
        shoot_template_cards(browser, rpc, f"{args.url}/odoo/marketing-automation")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
