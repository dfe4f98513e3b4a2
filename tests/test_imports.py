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

# The stages a scan runs on mail it reads: a scan with nothing new has no use for any of them.
STAGES = ("triage.stages", "triage.parse", "triage.authenticate", "triage.classify", "triage.cases",
          "triage.render", "triage.templating", "triage.account", "triage.translate", "triage.notify")

PROBE = """
import io, json, sys
from triage.cli import Environment, main
code = main(sys.argv[2:], Environment(stdout=io.StringIO(), stderr=io.StringIO(), environ=json.loads(sys.argv[1])))
print(json.dumps([code, sorted(sys.modules)]))
"""


def loaded_after(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, set[str]]:
    """The exit status of `triage ARGV` in a fresh interpreter, and every module it had loaded at the end."""
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(environ or {}), *argv], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, check=True)
    code, loaded = json.loads(done.stdout.splitlines()[-1])
    return code, set(loaded)


def modules_after(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, set[str]]:
    """The exit status, and the heavy libraries loaded (by their top-level names)."""
    code, loaded = loaded_after(*argv, environ=environ)
    return code, {m.split(".")[0] for m in loaded if m.split(".")[0] in HEAVY}


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


def test_an_imap_scan_with_nothing_new_loads_no_stage_and_no_heavy_library(imap_user, tmp_path):
    with imap_user.client() as c:
        c.append("INBOX", mails.compromise_notice(1))
    config = tmp_path / "config.toml"
    config.write_text(f'[imap]\nhost = "127.0.0.1"\nport = {imap_user.server.port}\nuser = "{imap_user.name}"\n'
                      f'password_env = "PW"\ntls = "none"\nfolders = ["INBOX"]\n')
    config.chmod(0o600)
    environ = {"PW": imap_user.password, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    argv = ("scan", "--config", str(config), "--offline", "--json", "--state", str(tmp_path / "state.sqlite3"))

    code, first = loaded_after(*argv, environ=environ)
    assert code == 0
    assert {"mailparser", "triage.stages", "triage.classify"} <= first  # it read the notice

    code, again = loaded_after(*argv, environ=environ)
    assert code == 0
    assert {m for m in again if m.split(".")[0] in HEAVY} == set()
    assert {m for m in again if m.startswith(STAGES)} == set()  # nor are the rules compiled to check them
