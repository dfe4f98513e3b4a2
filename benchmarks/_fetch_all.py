"""The baseline, as a bare process: fetch every full message and parse it with triage's parser.

What a scan without any narrowing costs. Reads its job as JSON on stdin: host, port, user, password.
Prints how many parsed mails come from an Amazon address.
"""

import json
import sys

from imapclient import IMAPClient

from triage.mail import Origin, RawMail
from triage.parse import parse_mail

CHUNK = 200

job = json.load(sys.stdin)
client = IMAPClient(job["host"], port=job["port"], ssl=False, timeout=120)
client.login(job["user"], job["password"])
client.select_folder("INBOX", readonly=True)
uids = client.search(["ALL"])
amazon = 0
for i in range(0, len(uids), CHUNK):
    for uid, data in client.fetch(uids[i:i + CHUNK], ["BODY.PEEK[]"]).items():
        mail = parse_mail(RawMail(data[b"BODY[]"], Origin("imap", "INBOX", uid)))
        amazon += "amazon" in mail.sender.address
client.logout()
print(amazon)
