"""Take screenshots of a running Odoo with headless Chromium (DevTools protocol).

    python3 tools/screenshot.py --url http://127.0.0.1:8069 --db mydb \\
        --page /odoo/marketing-automation/1 --wait ".o_ma_workflow" --out campaign.png

Logs in (admin / admin by default), opens each page, waits for its selector and the
network to settle, and writes a PNG. Several --page/--wait/--out triples may be given.
"""

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket


class Browser:
    def __init__(self, width, height, port=9339):
        self.profile = tempfile.mkdtemp(prefix="mac-shot-")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
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

    def shoot(self, url, selector, path):
        """Open ``url``, wait for ``selector``, and write the page as a PNG."""
        self.goto(url)
        self.wait(f"document.querySelector({json.dumps(selector)})")
        time.sleep(1.5)  # charts drawn, fonts loaded
        self.screenshot(path)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))

    def close(self):
        self.ws.close()
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--page", action="append", required=True)
    parser.add_argument("--wait", action="append", required=True)
    parser.add_argument("--out", action="append", required=True)
    args = parser.parse_args()
    browser = Browser(args.width, args.height)
    try:
        login(browser, args.url, args.db, args.login, args.password)
        for page, selector, out in zip(args.page, args.wait, args.out, strict=True):
            browser.shoot(f"{args.url}{page}", selector, out)
            sys.stdout.write(f"wrote {out}\n")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
