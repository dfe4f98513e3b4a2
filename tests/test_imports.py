"""A run imports only what it uses: no boto3 without an account check, no deepl without a key, no dkimpy
offline, no templates when there is nothing to summarise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests import mails

ROOT = Path(__file__).parent.parent
HEAVY = ("boto3", "botocore", "deepl", "requests", "dkim", "dns", "jinja2", "mailparser")

PROBE = f"""
import io, json, sys
from triage.cli import Environment, main
code = main(sys.argv[1:], Environment(stdout=io.StringIO(), stderr=io.StringIO(), environ={{}}))
print(json.dumps([code, sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})]))
"""


def modules_after(*argv: str) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=True)
    code, loaded = json.loads(done.stdout.splitlines()[-1])
    return code, {m.split(".")[0] for m in loaded}


def test_offline_scan_of_aws_mail_loads_no_network_library(tmp_path):
    folder = mails.write_eml_folder(tmp_path / "in", mails.aws_related())
    code, loaded = modules_after("scan", "--source", str(folder), "--offline", "--state", ":memory:")
    assert code == 0
    assert loaded == {"mailparser", "jinja2"}  # it reads mail and prints summaries; nothing else


def test_scan_without_a_deepl_key_or_aws_check_loads_neither(tmp_path):
    # Not offline: DKIM is checked (dkimpy is loaded), but there is no DeepL key and --no-aws.
    folder = mails.write_eml_folder(tmp_path / "in", mails.unrelated())
    code, loaded = modules_after("scan", "--source", str(folder), "--no-aws", "--no-send", "--state", ":memory:")
    assert code == 0
    assert loaded <= {"mailparser", "dkim", "dns"}  # no case to summarise: no templates either
