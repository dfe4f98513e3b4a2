"""The floor, as a bare process: one UID SEARCH with triage's own criteria, one FETCH of the AWS bodies.

What any tool built on the same IMAP client must pay to find the AWS mail in the mailbox: start Python,
import imapclient, log in, search once, fetch the AWS mails the search returned. Nothing of triage is
imported. Reads its job as JSON on stdin: host, port, user, password, criteria, aws (the AWS UIDs).
"""

import json
import sys

from imapclient import IMAPClient

job = json.load(sys.stdin)
client = IMAPClient(job["host"], port=job["port"], ssl=False, timeout=60)
client.login(job["user"], job["password"])
client.select_folder("INBOX", readonly=True)
found = set(client.search(job["criteria"]))
wanted = sorted(found & set(job["aws"]))
bodies = client.fetch(wanted, ["BODY.PEEK[]"]) if wanted else {}
client.logout()
print(len(bodies))
