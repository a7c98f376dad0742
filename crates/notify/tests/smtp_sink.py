"""A test SMTP server: aiosmtpd on 127.0.0.1:PORT, writing each message it
accepts to DIR/<n>.json as {from, to, subject, body}, decoded.

Usage: python3 smtp_sink.py PORT DIR   (prints "ready" once listening)
"""
import email
import email.policy
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        n = len(os.listdir(self.folder))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "body": msg.get_content(),
        }
        tmp = os.path.join(self.folder, f".{n}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.folder, f"{n}.json"))
        return "250 OK"


port, folder = int(sys.argv[1]), sys.argv[2]
controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
