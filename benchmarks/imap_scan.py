"""IMAP scan of a large mailbox (1% AWS): triage's narrowed scan against fetching and parsing everything.

Both run in the same process against the same real Dovecot (the test fixture) and the same mailbox of
N mails written straight into its Maildir. Printed as ratios to the baseline measured in this run.

    python -m benchmarks.imap_scan [N]      (from the repository root; `make bench` runs every benchmark)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests import dovecot, mails
from triage import paths
from triage.config import ImapSettings
from triage.mail import Origin, RawMail
from triage.parse import parse_mail
from triage.relevance import load_narrowing
from triage.sources.imap import ImapSource
from triage.state import Mailbox, open_state


def fill(server: dovecot.Dovecot, user: dovecot.ImapUser, count: int) -> int:
    """Write `count` mails into the user's Maildir (1 in 100 about AWS); return how many are about AWS."""
    with user.client() as c:  # let Dovecot create the Maildir first
        c.select_folder("INBOX")
    cur = server.root / "mail" / user.name / "cur"
    aws = 0
    for i in range(count):
        if i % 100 == 0:
            data = mails.build('"Amazon Web Services" <no-reply-aws@amazon.com>', f"AWS Budgets: alert {i}",
                               "Your budget was exceeded.\n" * 20, message_id=f"<aws-{i}@amazon.com>")
            aws += 1
        else:
            data = mails.build(f'"Shop {i % 37}" <news{i % 37}@shop.example>', f"Offer number {i}",
                               "A long newsletter paragraph about many things.\n" * 60,
                               message_id=f"<n-{i}@shop.example>", auth=None)
        path = cur / f"{1700000000 + i}.M{i}P1.bench:2,"
        path.write_bytes(data)
        os.chown(path, server.uid, server.gid)
    return aws


def naive(user: dovecot.ImapUser) -> int:
    """The baseline: fetch every full message (BODY.PEEK[]) and parse it."""
    found = 0
    with user.client() as c:
        c.select_folder("INBOX", readonly=True)
        uids = c.search(["ALL"])
        for i in range(0, len(uids), 500):
            for uid, data in c.fetch(uids[i:i + 500], ["BODY.PEEK[]"]).items():
                m = parse_mail(RawMail(data[b"BODY[]"], Origin("imap", "INBOX", uid)))
                found += "amazon" in m.sender.address
    return found


def triage_scan(user: dovecot.ImapUser, state_file: Path) -> int:
    settings = ImapSettings(host="127.0.0.1", port=user.server.port, user=user.name, password_env="PW", tls="none",
                            folders=("INBOX",))
    source = ImapSource(settings, narrowing=load_narrowing(paths.rules_dir()), max_bytes=10**7,
                        env={"PW": user.password})
    found = 0
    with open_state(state_file) as state:
        for batch in source.batches(state, rescan=False):
            for raw in batch.mails:
                parse_mail(raw)
                found += 1
            if batch.checkpoint:
                state.set_mailbox(batch.checkpoint.mailbox, Mailbox(batch.checkpoint.uidvalidity,
                                                                    batch.checkpoint.last_uid))
    return found


def timed(fn, *args) -> tuple[float, int]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    gen = dovecot.start()
    server = next(gen)
    try:
        user = server.add_user()
        aws = fill(server, user, count)
        naive(user)  # warm Dovecot's index and caches for both sides alike
        base, found_naive = timed(naive, user)
        state_file = server.root / "bench-state.sqlite3"
        first, found_first = timed(triage_scan, user, state_file)
        again, found_again = timed(triage_scan, user, state_file)
    finally:
        gen.close()
    assert found_naive == aws == found_first and found_again == 0
    print(f"mailbox: {count} mails, {aws} about AWS (Dovecot on loopback, warm)")
    print(f"baseline  fetch+parse every mail : {base:7.3f} s  (1.00x)")
    print(f"triage    first scan             : {first:7.3f} s  ({base / first:5.1f}x faster)")
    print(f"triage    next scan, nothing new : {again:7.3f} s  ({base / again:5.0f}x faster)")


if __name__ == "__main__":
    main()
