"""An incomplete data set is an error in every command, never a scan that quietly finds nothing.

Without its rules triage would call an "[ACTION REQUIRED] … compromised" notice `other` and say "No new
mail about AWS" with exit 0: the one failure it exists to prevent. Each way the data can be missing is one
line on stderr naming the path, and exit status 2.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from triage.classify import load_rules
from triage.cli import Environment, main

ROOT = Path(__file__).resolve().parent.parent
MAIL = ROOT / "tests" / "corpus" / "compromise-irregular-activity.eml"
SHIPPED_KINDS = load_rules(ROOT / "rules").kinds
SECURITY_KINDS = {name for name in SHIPPED_KINDS if SHIPPED_KINDS[name].security}

COMMANDS = {
    "scan": ["scan", "--source", str(ROOT / "examples" / "inbox.mbox"), "--offline", "--state", ":memory:"],
    "daemon": ["daemon", "--state", ":memory:"],
    "explain": ["explain", str(MAIL), "--offline"],
    "check-account": ["check-account", "--regions", "us-east-1"],
}


def run(argv: list[str], data: Path, config: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    # the data-set verdict is remembered beside the copy, never in the real ~/.cache (paths.cache_dir)
    environ = {"TRIAGE_DATA_DIR": str(data), "HOME": str(data.parent), "XDG_CACHE_HOME": str(data.parent / "cache")}
    if config is not None:
        environ["TRIAGE_CONFIG"] = str(config)
    code = main(argv, Environment(stdout=out, stderr=err, environ=environ))
    return code, out.getvalue(), err.getvalue()


def data_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for folder in ("rules", "templates"):
        shutil.copytree(ROOT / folder, data / folder)
    return data


def _no_rules_folder(data: Path) -> Path:
    shutil.rmtree(data / "rules")
    return data / "rules"


def _no_rule_files(data: Path) -> Path:
    for path in (data / "rules").glob("[0-9]*.toml"):
        path.unlink()
    return data / "rules"


def _no_templates(data: Path) -> Path:
    shutil.rmtree(data / "templates")
    return data / "templates"


def _no_region_table(data: Path) -> Path:
    (data / "rules" / "regions.toml").unlink()
    return data / "rules" / "regions.toml"


def _no_texts(data: Path) -> Path:
    (data / "templates" / "texts.toml").unlink()
    return data / "templates" / "texts.toml"


def _no_partial_template(data: Path) -> Path:
    # Included by summary.txt.j2: found missing at start, not when the first compromise case is rendered.
    (data / "templates" / "_account.txt.j2").unlink()
    return data / "templates" / "_account.txt.j2"


def _no_terminal_template(data: Path) -> Path:
    # Imported by the terminal's account tables: missing at start, not after a scan has sent its summaries.
    (data / "templates" / "_terminal_account.txt.j2").unlink()
    return data / "templates" / "_terminal_account.txt.j2"


def _no_lexicon(data: Path) -> Path:
    # The rules still load without it, but no sender is AWS: the compromise notice would be `other`.
    (data / "rules" / "00-lexicon.toml").unlink()
    return data / "rules"


def _no_alarm_template(data: Path) -> Path:
    # Rendered only when an AWS-looking mail cannot be read: missing at start, not when that mail comes.
    (data / "templates" / "unreadable.txt.j2").unlink()
    return data / "templates" / "unreadable.txt.j2"


BREAKS: dict[str, Callable[[Path], Path]] = {
    "no rules folder": _no_rules_folder,
    "no rule files": _no_rule_files,
    "no templates": _no_templates,
    "no region table": _no_region_table,
    "no texts": _no_texts,
    "a template missing": _no_partial_template,
    "a terminal template missing": _no_terminal_template,
    "no lexicon": _no_lexicon,
    "the unreadable-mail alarm template missing": _no_alarm_template,
}


def _one_line_naming(code: int, out: str, err: str, path: Path) -> None:
    assert code == 2, err
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("triage: ") and str(path) in err, err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_empty_data_dir_is_exit_2(command: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_line_naming(*run(COMMANDS[command], empty), empty / "rules")


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("broken", sorted(BREAKS))
def test_missing_data_is_exit_2_in_every_command(command: str, broken: str, tmp_path: Path) -> None:
    data = data_copy(tmp_path)
    missing = BREAKS[broken](data)
    _one_line_naming(*run(COMMANDS[command], data), missing)


@pytest.mark.parametrize("kind", sorted(SECURITY_KINDS))
def test_a_rule_set_without_a_security_kind_is_refused(kind: str, tmp_path: Path) -> None:
    # A user's rules file can switch shipped rules off; switching off every rule of a security kind
    # would leave such mail unrecognised.
    names = [r.name for r in load_rules(ROOT / "rules").rules if r.kind == kind]
    assert names
    extra = tmp_path / "mine.toml"
    extra.write_text("".join(f'[[rule]]\nname = "{n}"\nenabled = false\n\n' for n in names))
    config = tmp_path / "config.toml"
    config.write_text(f'[rules]\nextra = ["{extra}"]\n')
    config.chmod(0o600)
    data = data_copy(tmp_path)
    for command in sorted(COMMANDS):
        code, out, err = run(COMMANDS[command], data, config)
        _one_line_naming(code, out, err, data / "rules")
        assert kind in err


def test_the_complete_data_set_still_finds_the_compromise(tmp_path: Path) -> None:
    code, out, err = run(COMMANDS["explain"], data_copy(tmp_path))
    assert code == 0, err
    assert "kind:          compromised-account (critical)" in out


def test_every_template_the_code_renders_by_name_is_checked_at_start() -> None:
    # A template named only in a get_template call, and not among the checked entries, would be found
    # missing in the middle of a run, with a case in hand.
    from triage.render import ENTRY_TEMPLATES
    from triage.terminal import TEMPLATES

    named = {name for path in (ROOT / "triage").rglob("*.py")
             for name in re.findall(r"get_template\(\"([^\"]+)\"\)", path.read_text(encoding="utf-8"))}
    assert named, "no get_template call found"
    assert named - set(ENTRY_TEMPLATES) - set(TEMPLATES) == set()


def test_a_lexicon_list_left_empty_is_named(tmp_path: Path) -> None:
    data = data_copy(tmp_path)
    lexicon = data / "rules" / "00-lexicon.toml"
    lexicon.write_text(re.sub(r"(?ms)^aws_domains = \[.*?^\]\n", "", lexicon.read_text(encoding="utf-8")),
                       encoding="utf-8")
    code, out, err = run(COMMANDS["scan"], data)
    _one_line_naming(code, out, err, data / "rules")
    assert "aws_domains" in err and "brands" not in err
