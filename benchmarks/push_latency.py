"""Push latency of `triage daemon`: from APPEND to the summary's arrival at the SMTP server, per folder.

50 AWS notices are APPENDed at random intervals, half to INBOX and half to Junk, while the daemon runs
(full pass every hour, so only IDLE can bring them). In the same run a bare IMAP client idles on both
folders and notes when the server tells it of each mail: the floor, Dovecot's own notification delay
(about 0.5 s). Goal: triage's p95 within 0.5 s of the floor's in both folders.

    python -m benchmarks.push_latency [N]      (from the repository root; `make bench` runs every benchmark)
"""

from __future__ import annotations

import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from imapclient import IMAPClient

from tests import dovecot, mails
from tests.daemons import DaemonThreads
from tests.smtp import Inbox
from triage.config import Config, ImapSettings, NotifySettings, SmtpSettings
from triage.daemon import Timing

FOLDERS = ("INBOX", "Junk")


class TimedInbox(Inbox):
    """Notes when each summary arrives, by its case."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        self.arrived[str(self.messages[-1]["X-Triage-Case"])] = time.monotonic()
        return answer


class BareIdle(threading.Thread):
    """A plain IMAP client idling on one folder: when does the server report the n-th new mail?"""

    def __init__(self, user: dovecot.ImapUser, folder: str) -> None:
        super().__init__(daemon=True)
        self.user, self.folder = user, folder
        self.told: dict[int, float] = {}  # EXISTS count → when it came
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        client = IMAPClient("127.0.0.1", port=self.user.server.port, ssl=False, timeout=30)
        client.login(self.user.name, self.user.password)
        client.select_folder(self.folder, readonly=True)
        client.idle()
        self.ready.set()
        while not self.stop.is_set():
            for response in client.idle_check(timeout=0.5):
                if isinstance(response, tuple) and len(response) >= 2 and response[1] == b"EXISTS":
                    self.told.setdefault(int(response[0]), time.monotonic())
        client.idle_done()
        client.logout()


def stats(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 50
    if "-v" in sys.argv:
        logging.basicConfig(level=logging.INFO, format="%(relativeCreated)d %(threadName)s %(name)s %(message)s",
                            filename="/tmp/push_latency.log", force=True)
        logging.getLogger("triage.sources.imap").setLevel(logging.DEBUG)
    rng = random.Random(12)
    gen = dovecot.start()
    server = next(gen)
    inbox = TimedInbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=dovecot.free_port())
    smtp.start()
    try:
        user = server.add_user()
        config = Config(
            imap=ImapSettings(host="127.0.0.1", port=server.port, user=user.name, password_env="PW", tls="none"),
            smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, tls="none", sender="triage@example.jp"),
            notify=NotifySettings(to=("owner@example.jp",), remind_every_hours=0),
        )
        bare = {f: BareIdle(user, f) for f in FOLDERS}
        for watcher in bare.values():
            watcher.start()
            watcher.ready.wait(10)
        state_dir = Path(tempfile.mkdtemp(prefix="triage-bench-"))
        daemons = DaemonThreads(state_dir / "state.sqlite3", {"PW": user.password})
        daemons.start(config, Timing(poll_seconds=3600))  # production timing, but no full pass to help
        time.sleep(3)  # first pass done, every folder idling

        sent: dict[str, tuple[str, int, float]] = {}  # case → (folder, its number in the folder, APPEND done)
        numbers: dict[str, int] = defaultdict(int)
        order = [FOLDERS[i % 2] for i in range(count)]
        rng.shuffle(order)
        with user.client() as c:
            for i, folder in enumerate(order):
                time.sleep(rng.uniform(1.0, 2.5))
                case = f"171{i:08d}"
                c.append(folder, mails.compromise_notice(1, case=case))
                appended = time.monotonic()
                numbers[folder] += 1
                sent[case] = (folder, numbers[folder], appended)
        deadline = time.monotonic() + 60
        while len(inbox.arrived) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        daemons.stop_all()
        for watcher in bare.values():
            watcher.stop.set()
            watcher.join(5)
    finally:
        smtp.stop()
        gen.close()

    print(f"{count} AWS notices, APPENDed at random intervals (1-2.5 s) to INBOX and Junk; Dovecot and "
          f"aiosmtpd on loopback")
    print(f"{'folder':6}  {'measured':34}  {'p50':>6}  {'p95':>6}  {'max':>6}")
    for folder in FOLDERS:
        mine = [inbox.arrived[c] - t for c, (f, _, t) in sent.items() if f == folder and c in inbox.arrived]
        floor = [bare[f].told[n] - t for c, (f, n, t) in sent.items() if f == folder and n in bare[f].told]
        missing = sum(1 for c, (f, _, _) in sent.items() if f == folder and c not in inbox.arrived)
        for label, values in (("floor: bare IMAP client told (IDLE)", floor),
                              ("triage: summary at the SMTP server", mine)):
            p50, p95, top = stats(values)
            print(f"{folder:6}  {label:34}  {p50:6.2f}  {p95:6.2f}  {top:6.2f}  s")
        gap = stats(mine)[1] - stats(floor)[1]
        slow = sorted((round(v, 2), c) for c, v in ((c, inbox.arrived[c] - t) for c, (f, _, t) in sent.items()
                                                    if f == folder and c in inbox.arrived) if v > 1.2)
        if slow and "-v" in sys.argv:
            print("slow:", slow)
        print(f"{folder:6}  p95 above the floor: {gap:.2f} s ({'within' if gap <= 0.5 else 'NOT within'} the 0.5 s "
              f"goal){f'; {missing} never arrived' if missing else ''}")


if __name__ == "__main__":
    main()
