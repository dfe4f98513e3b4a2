"""`triage scan` on a mailbox that looks like a real Japanese inbox, against the floor and against fetch-all.

The test Dovecot (tests/dovecot.py) is filled over IMAP (MULTIAPPEND in batches when the server offers it)
with N mails from benchmarks/inbox.py, cached on disk by N and the generator's version. Then, each three
times, in rounds so that the machine's load falls on all of them alike:

  fetch-all  a bare process fetching every full message and parsing it (the baseline)
  floor      a bare process: one UID SEARCH with triage's own criteria, one FETCH of the AWS bodies
  first      `triage scan --offline` on a fresh state
  rescan     `triage scan --offline` again, with nothing new
  idle floor a bare process: log in and SEARCH above the highest UID (what a rescan cannot avoid either)

Ratios are what count (the machine may be shared); each figure is the median of its three runs. The CPU
column (user + system seconds of the process) moves less with the machine's load than the wall time: the
floor mostly waits for the server, triage mostly computes, so load stretches triage's wall time more. Before
the rounds, the floor and triage run once each: the server warms its caches, Python writes the bytecode
(as on any installed system) and triage remembers the data set's verdict (triage.dataset).

    python -m benchmarks.scan_inbox --messages N      (from the repository root)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import pickle
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from benchmarks import inbox
from tests import dovecot
from triage import paths
from triage.relevance import load_narrowing
from triage.sources.imap import search_criteria

HERE = Path(__file__).resolve().parent
APPEND_BATCH_BYTES = 4 * 1024 * 1024
APPEND_BATCH_MAILS = 500
PASSWORD_ENV = "TRIAGE_BENCH_IMAP_PASSWORD"


@dataclass(frozen=True)
class Run:
    seconds: float
    rss_mb: float
    output: str
    cpu: float = float("nan")  # user + system seconds of the process and its children


# --- the mailbox --------------------------------------------------------------------------------------


def cache_path(count: int) -> Path:
    """Keyed by N and the generator's version (its VERSION and the digest of its source and the corpus)."""
    digest = hashlib.sha256(Path(inbox.__file__).read_bytes())
    for path in sorted(inbox.CORPUS.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "triage-bench"
    return base / f"inbox-v{inbox.VERSION}-{digest.hexdigest()[:12]}-{count}.pickle"


def mailbox(count: int) -> list[inbox.Generated]:
    path = cache_path(count)
    if path.exists():
        with path.open("rb") as f:
            mails: list[inbox.Generated] = pickle.load(f)
        return mails
    mails = list(inbox.generate(count))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as f:
        pickle.dump(mails, f, protocol=pickle.HIGHEST_PROTOCOL)
    partial.rename(path)
    return mails


def batches(mails: Sequence[inbox.Generated]) -> Iterator[list[inbox.Generated]]:
    batch: list[inbox.Generated] = []
    size = 0
    for mail in mails:
        batch.append(mail)
        size += len(mail.data)
        if size >= APPEND_BATCH_BYTES or len(batch) >= APPEND_BATCH_MAILS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def fill(user: dovecot.ImapUser, mails: Sequence[inbox.Generated]) -> list[int]:
    """APPEND every mail (internal date = its Date); return the UIDs of the AWS mails."""
    with user.client() as c:
        multi = b"MULTIAPPEND" in c.capabilities()
        for batch in batches(mails):
            if multi:
                c.multiappend("INBOX", [{"msg": m.data, "date": m.date} for m in batch])
            else:
                for m in batch:
                    c.append("INBOX", m.data, msg_time=m.date)
        c.select_folder("INBOX", readonly=True)
        uids = sorted(c.search(["ALL"]))
    if len(uids) != len(mails):
        raise RuntimeError(f"the server holds {len(uids)} mails, {len(mails)} were appended")
    return [uid for uid, m in zip(uids, mails, strict=True) if m.kind == "aws"]


# --- the runs -----------------------------------------------------------------------------------------


def run(argv: list[str], *, stdin: str = "", env: dict[str, str] | None = None) -> Run:
    """One process, timed from start to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, cwd=HERE.parent)
    out, err = process.communicate(stdin.encode())
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode:
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {err.decode()[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Run(seconds, 0.0, out.decode(), cpu)


def run_rss(argv: list[str], *, env: dict[str, str], report: Path) -> Run:
    """Like `run`, through benchmarks/_measure.py, which times the command and knows its true peak RSS."""
    done = run([sys.executable, str(HERE / "_measure.py"), str(report), *argv], env=env)
    measured = json.loads(report.read_text())
    return Run(measured["seconds"], measured["rss_kb"] / 1024, done.output, done.cpu)


def triage_command() -> list[str]:
    """`python -m triage` from this checkout (PYTHONPATH is set to it), whatever is installed."""
    return [sys.executable, "-m", "triage"]


def write_config(path: Path, user: dovecot.ImapUser) -> None:
    path.write_text(f'[imap]\nhost = "127.0.0.1"\nport = {user.server.port}\nuser = "{user.name}"\n'
                    f'password_env = "{PASSWORD_ENV}"\ntls = "none"\nfolders = ["INBOX"]\n', encoding="utf-8")


def median(runs: Sequence[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000, help="mails in the mailbox (default 20000)")
    parser.add_argument("--rounds", type=int, default=3, help="times each is measured (default 3)")
    parser.add_argument("--since", help="also pass --since DATE to triage scan")
    parser.add_argument("--skip-fetch-all", action="store_true", help="leave out the slow baseline (while tuning)")
    parser.add_argument("--fetch-all-seconds", type=float,
                        help="with --skip-fetch-all: the baseline's median from an earlier run, for the ratio")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    mails = mailbox(args.messages)
    generated = time.perf_counter() - began
    total_mb = sum(len(m.data) for m in mails) / 1e6
    gen = dovecot.start()
    server = next(gen)
    try:
        user = server.add_user()
        began = time.perf_counter()
        aws = fill(user, mails)
        filled = time.perf_counter() - began
        work = server.root / "bench"
        work.mkdir()
        config = work / "triage.toml"
        write_config(config, user)
        # Bytecode is written and read as on any installed system (a sandbox's PYTHONDONTWRITEBYTECODE
        # would make every run compile triage and imapclient from source, which no user pays).
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, PASSWORD_ENV: user.password,
               "XDG_STATE_HOME": str(work), "XDG_CACHE_HOME": str(work / "cache"), "PYTHONPATH": str(HERE.parent)}
        job = {"host": "127.0.0.1", "port": user.server.port, "user": user.name, "password": user.password}
        criteria = ["UID", "1:*", *search_criteria(load_narrowing(paths.rules_dir()))]
        floor_job = json.dumps({**job, "criteria": criteria, "aws": aws})
        # What a scan with nothing new cannot avoid either: log in, search above the highest UID, log out.
        idle_job = json.dumps({**job, "criteria": ["UID", f"{len(mails) + 1}:*", *criteria[2:]], "aws": []})
        scan = [*triage_command(), "scan", "--config", str(config), "--offline", "--json",
                *(["--since", args.since] if args.since else [])]

        def first() -> Run:
            state = work / "state.sqlite3"
            for stale in work.glob("state.sqlite3*"):
                stale.unlink()
            return run_rss([*scan, "--state", str(state)], env=env, report=work / "measure.json")

        def rescan() -> Run:
            return run_rss([*scan, "--state", str(work / "state.sqlite3")], env=env, report=work / "measure.json")

        # Warm the server's index and header cache for every side alike (the mail files are in the page
        # cache already: they were just written), and let each program write its bytecode once.
        run([sys.executable, str(HERE / "_floor.py")], stdin=floor_job, env=env)
        run([*scan, "--state", ":memory:"], env=env)
        results: dict[str, list[Run]] = {"fetch-all": [], "floor": [], "idle floor": [], "first": [], "rescan": []}
        for _ in range(args.rounds):
            if not args.skip_fetch_all:
                results["fetch-all"].append(run([sys.executable, str(HERE / "_fetch_all.py")], stdin=json.dumps(job),
                                                env=env))
            results["floor"].append(run([sys.executable, str(HERE / "_floor.py")], stdin=floor_job, env=env))
            results["first"].append(first())
            results["rescan"].append(rescan())
            results["idle floor"].append(run([sys.executable, str(HERE / "_floor.py")], stdin=idle_job, env=env))
    finally:
        gen.close()

    fetched = int(results["floor"][0].output.strip())
    reported = sum(json.loads(line).get("type") == "message" for line in results["first"][0].output.splitlines())
    again = len(results["rescan"][0].output.splitlines())
    if not results["fetch-all"]:
        results["fetch-all"].append(Run(args.fetch_all_seconds or float("nan"), 0.0, ""))
    base, floor_s, first_s, rescan_s = (median(results[k]) for k in ("fetch-all", "floor", "first", "rescan"))
    rss = max(r.rss_mb for r in results["first"] + results["rescan"])
    load = os.getloadavg()

    print(f"mailbox: {args.messages} mails, {total_mb:.0f} MB, {len(aws)} AWS mails ({fetched} match the "
          f"search); generated or loaded in {generated:.1f} s, APPENDed in {filled:.1f} s")
    print(f"triage reported {reported} AWS mails on the first scan, {again} output lines on the rescan")
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs, "
          f"{datetime.now():%Y-%m-%d %H:%M}")
    print()
    print(f"{'measure':<34}{'median s':>10}{'min s':>9}{'max s':>9}{'ratio':>12}{'':>13}{'CPU s':>7}")
    rows = [("fetch-all + parse (baseline)", "fetch-all"), ("floor (SEARCH + FETCH AWS)", "floor"),
            ("triage scan, first", "first"), ("triage scan, nothing new", "rescan"),
            ("floor, nothing new (SEARCH only)", "idle floor")]
    if args.skip_fetch_all:
        rows[0] = ("fetch-all (given, earlier run)", "fetch-all")
    for label, key in rows:
        if key == "fetch-all" and math.isnan(base):
            print(f"{'fetch-all + parse (baseline)':<34}{'not measured (--skip-fetch-all)':>30}")
            continue
        times = [r.seconds for r in results[key]]
        ratio = f"{median(results[key]) / first_s * 100:.1f}% of first" if key in ("rescan", "idle floor") \
            else f"{median(results[key]) / floor_s:.2f}x floor"
        cpu = statistics.median(r.cpu for r in results[key])
        print(f"{label:<34}{statistics.median(times):>10.3f}{min(times):>9.3f}{max(times):>9.3f}  {ratio:<21}"
              f"{cpu:>7.3f}")
    print(f"{'triage peak RSS':<34}{rss:>9.0f} MB")
    print()
    against_base = "fetch-all not measured" if math.isnan(base) else f"{base / first_s:.1f}x faster than fetch-all"
    print(f"N={args.messages}: first scan {first_s / floor_s:.1f}x the floor, {against_base}; "
          f"rescan {rescan_s / first_s * 100:.1f}% of first; peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
