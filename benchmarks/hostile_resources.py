"""Resources under hostile mail: peak memory of a scan of big mails, and the decoding of a huge Subject.

memory  `triage scan --offline --all --json` over 50 mails of 20 MB (AWS compromise notices with a 20 MB
        text or attachment), in a child process; its peak RSS against the same scan of 50 small mails
        (the baseline, measured in the same run). Goal: under 300 MB, growing with the number of mails,
        not with their size.
decode  a Subject of 1 MB of encoded words: triage.headers.decode_header against Python's
        email.header.decode_header (quadratic) on a 128 KB slice of it. Goal: 1 MB in under 0.5 s.
"""

from __future__ import annotations

import base64
import email.header
import os
import resource
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage.headers import decode_header  # noqa: E402

MAILS = 50
BIG = 20 * 1024 * 1024
MEMORY_GOAL_MB = 300
DECODE_GOAL_S = 0.5


def notice(n: int, size: int) -> bytes:
    m = EmailMessage()
    m["From"] = '"Amazon Web Services" <no-reply-aws@amazon.com>'
    m["To"] = "owner@example.jp"
    m["Subject"] = f"[CASE 171002{n:05d}] [ACTION REQUIRED] Your AWS account 123456789012 may be compromised"
    m["Date"] = "Tue, 10 Nov 2026 06:00:00 +0000"
    m["Message-ID"] = f"<big-{n}@support.amazon.com>"
    text = "We detected activity in your AWS account 123456789012 that suggests a third party has access.\n"
    if n % 2:  # half of them: the size is in the text itself
        m.set_content(text + ("Line of a very long notice body. " * (size // 33)))
    else:  # the other half: a big attachment
        m.set_content(text)
        m.add_attachment(os.urandom(size * 3 // 4), maintype="application", subtype="octet-stream",
                         filename="evidence.bin")
    return m.as_bytes()


def peak_rss_mb(folder: Path, config: Path) -> float:
    code = ("import resource, sys; from triage.cli import main; rc = main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, "scan", "--config", str(config), "--source", str(folder),
                           "--offline", "--all", "--json", "--state", ":memory:"],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"scan failed ({done.returncode}): {done.stderr[-500:]}")
    found = done.stdout.count('"compromised-account"')
    if found < MAILS:
        raise SystemExit(f"only {found} of {MAILS} notices were reported")
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def memory() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text("[mail]\nmax_bytes = 41943040\n")
        config.chmod(0o600)
        results = {}
        for label, size in (("small", 20 * 1024), ("big", BIG)):
            folder = Path(tmp) / label
            folder.mkdir()
            for n in range(MAILS):
                (folder / f"{n:03d}.eml").write_bytes(notice(n, size))
            total = sum(p.stat().st_size for p in folder.iterdir()) / 1024 / 1024
            results[label] = peak_rss_mb(folder, config)
            print(f"memory  {MAILS} mails, {total:,.0f} MB in all: peak RSS {results[label]:.0f} MB")
            for p in folder.iterdir():
                p.unlink()
    ratio = results["big"] / results["small"]
    ok = results["big"] < MEMORY_GOAL_MB
    print(f"memory  big/small = {ratio:.2f}; goal: under {MEMORY_GOAL_MB} MB: {'met' if ok else 'NOT met'}")
    return ok


def decode() -> bool:
    word = "=?utf-8?b?" + base64.b64encode("アカウントが不正に使われています".encode()).decode() + "?="
    subject = " ".join([word] * (1024 * 1024 // (len(word) + 1)))
    start = time.perf_counter()
    decode_header(subject)
    ours = time.perf_counter() - start
    piece = subject[:128 * 1024]
    start = time.perf_counter()
    email.header.decode_header(piece)
    python = time.perf_counter() - start
    start = time.perf_counter()
    decode_header(piece)
    ours_piece = time.perf_counter() - start
    ok = ours < DECODE_GOAL_S
    print(f"decode  1 MB Subject: triage {ours * 1000:.1f} ms; 128 KB slice: Python's decode_header "
          f"{python * 1000:.0f} ms, triage {ours_piece * 1000:.2f} ms ({python / max(ours_piece, 1e-9):,.0f}x)")
    print(f"decode  goal: 1 MB under {DECODE_GOAL_S} s: {'met' if ok else 'NOT met'}")
    return ok


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    results = [decode(), memory()]
    sys.exit(0 if all(results) else 1)
