"""The data set is checked whole once, then remembered by its fingerprint (triage.dataset): a run with the same
rules, templates and extra rules files does not check again, and any change is checked in full. A data set
broken after a good run is refused exactly as if it had never passed (exit 2, one line naming the file)."""

from __future__ import annotations

from pathlib import Path

from tests.test_missing_data import data_copy, run

ROOT = Path(__file__).resolve().parent.parent
SCAN = ["scan", "--source", str(ROOT / "examples" / "inbox.mbox"), "--offline", "--json", "--state", ":memory:"]
GOOD_PATTERN = "'AWSCompromisedKeyQuarantine',"


def refused(code: int, out: str, err: str, path: Path) -> None:
    assert code == 2, err
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("triage: ") and str(path) in err, err


def test_a_rule_broken_after_a_good_run_is_refused(tmp_path: Path) -> None:
    data = data_copy(tmp_path)
    code, _, err = run(SCAN, data)
    assert code == 0, err
    assert (tmp_path / "cache" / "triage" / "dataset-verdict").is_file()  # the good verdict is remembered
    rules = data / "rules" / "20-security.toml"
    good = rules.read_text(encoding="utf-8")
    assert GOOD_PATTERN in good
    # The same length, so that neither the size nor (within a second) the change time tells it apart.
    rules.write_text(good.replace(GOOD_PATTERN, "'AWSCompromisedKeyQuarant(ne',"), encoding="utf-8")
    refused(*run(SCAN, data), rules)
    rules.write_text(good, encoding="utf-8")  # put back: the data set is whole again
    assert run(SCAN, data)[0] == 0


def test_a_missing_template_after_a_good_run_is_refused(tmp_path: Path) -> None:
    data = data_copy(tmp_path)
    assert run(SCAN, data)[0] == 0
    (data / "templates" / "_account.txt.j2").unlink()
    refused(*run(SCAN, data), data / "templates" / "_account.txt.j2")
    refused(*run(SCAN, data), data / "templates" / "_account.txt.j2")  # and again: a refusal is not remembered


def test_an_extra_rules_file_changed_after_a_good_run_is_checked_again(tmp_path: Path) -> None:
    data = data_copy(tmp_path)
    extra = tmp_path / "mine.toml"
    extra.write_text('[[rule]]\nname = "mine"\nkind = "other"\nsubject = ["my own words"]\n', encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[rules]\nextra = ["{extra}"]\n', encoding="utf-8")
    config.chmod(0o600)
    code, _, err = run(SCAN, data, config)
    assert code == 0, err
    # Every rule of a security kind switched off, in the user's file only: such mail would go unrecognised.
    names = [line.split('"')[1] for line in (data / "rules" / "20-security.toml").read_text().splitlines()
             if line.startswith("name = ")]
    extra.write_text("".join(f'[[rule]]\nname = "{n}"\nenabled = false\n\n' for n in names), encoding="utf-8")
    code, out, err = run(SCAN, data, config)
    refused(code, out, err, data / "rules")
