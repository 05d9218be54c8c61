"""A local SMTP sink on loopback for the benchmark: it accepts every message and
appends one line per recipient to a file, so delivered mails can be counted. No
message leaves the machine.

Usage: python3 bench/smtp_sink.py --port 1030 --out sink.log
"""

import argparse
import asyncio

from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self, path):
        self.handle = open(path, "a", buffering=1)  # noqa: SIM115 - open for the sink's life

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
        for recipient in envelope.rcpt_tos:
            self.handle.write(f"{recipient}\n")
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    controller = Controller(CountingHandler(args.out), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"SMTP sink listening on 127.0.0.1:{args.port}", flush=True)
    try:
        asyncio.new_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
