"""Every pattern triage searches a mail with finds its matches in time linear in the text.

A search that fails is retried at every position; when a pattern can begin with an unbounded repeat
(`[a-z0-9-]+\\.awsapps`, `[0-9][0-9,]*円`, `(?:label\\.)+tld`), each retry inside a long run of such
characters walks the rest of the run again: quadratic. A mail with 30 KB of digits in its body kept one
scan busy for minutes. Such a pattern must be pinned where a run begins (a lookbehind for the class, or
`^`), or bound its repeat. Checked on the parsed pattern, for the rules and for triage's own patterns.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest

import triage
from tests.scanning import run
from tests.test_hostile import HOSTILE
from triage import paths
from triage.classify import load_rules
from triage.sources.files import open_path
from triage.state import open_state

# Patterns used only with fullmatch: never retried along a text.
FULLMATCH_ONLY = {"triage.kinds.TEXT_KEY", "triage.forward._PLAIN_ADDRESS", "triage.templating._INSTANCE_TYPE",
                  "triage.sources.imap._SIMPLE_ADDRESS"}

_CLASSES = {sre.IN, sre.ANY, sre.NOT_LITERAL, sre.CATEGORY}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}


def _lead(items: list[tuple[object, object]]) -> str:
    """"unbounded" when a match may begin with an unbounded repeat after nothing but character classes,
    "pinned" when a lookbehind, `^` or a literal fixes where a match may begin, "open" otherwise."""
    for op, av in items:
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            if av[0] == -1:  # type: ignore[index]
                return "pinned"  # a lookbehind: inside a run of its class, no match begins
            continue
        if op == sre.AT:
            if av in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
                return "pinned"
            continue  # \b holds at every position of a run such as "0.0.0.0"
        if op == sre.SUBPATTERN:
            inner = _lead(av[3])  # type: ignore[index]
            if inner != "open":
                return inner
            continue
        if op == sre.BRANCH:
            leads = [_lead(branch) for branch in av[1]]  # type: ignore[index]
            if "unbounded" in leads:
                return "unbounded"
            if "open" in leads:
                continue
            return "pinned"
        if op in _REPEATS:
            if av[1] == sre.MAXREPEAT:  # type: ignore[index]
                return "unbounded"
            continue
        if op == sre.IN and all(kind == sre.LITERAL for kind, _ in av):  # type: ignore[union-attr]
            return "pinned"  # a set of a few characters ([$¥€£]): as a literal, matches begin only there
        if op in _CLASSES:
            continue
        return "pinned"
    return "open"


def may_be_quadratic(pattern: re.Pattern[str]) -> bool:
    return _lead(sre_parse.parse(pattern.pattern, pattern.flags)) == "unbounded"


def _patterns(obj: object, where: str, found: dict[str, re.Pattern[str]], depth: int = 0) -> None:
    if depth > 8:
        return
    if isinstance(obj, re.Pattern):
        if isinstance(obj.pattern, str):
            found.setdefault(where, obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            _patterns(getattr(obj, f.name), f"{where}.{f.name}", found, depth + 1)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _patterns(value, f"{where}[{key}]", found, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for i, value in enumerate(obj):
            _patterns(value, f"{where}[{i}]", found, depth + 1)


def rule_patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    _patterns(load_rules(paths.rules_dir(), ()), "rules", found)
    return found


def module_patterns() -> dict[str, re.Pattern[str]]:
    found = {}
    for info in pkgutil.walk_packages(triage.__path__, "triage."):
        if info.name.endswith("__main__"):
            continue
        for name, value in vars(importlib.import_module(info.name)).items():
            if isinstance(value, (re.Pattern, tuple, list, dict)):  # a pattern, or a table of them
                _patterns(value, f"{info.name}.{name}", found)
    fullmatch_only = {id(found[name]) for name in FULLMATCH_ONLY}  # wherever a module imported them
    return {k: v for k, v in found.items() if id(v) not in fullmatch_only}


def test_the_check_knows_a_quadratic_pattern_from_a_pinned_one():
    assert may_be_quadratic(re.compile(r"[a-z0-9-]+\.awsapps\.com"))
    assert may_be_quadratic(re.compile(r"[0-9][0-9,]*[ ]?(円|ドル)"))
    assert may_be_quadratic(re.compile(r"\b(?:[a-z0-9]+\.)+com\b"))
    assert may_be_quadratic(re.compile(r"x|(\d+)\s*日以内"))
    assert not may_be_quadratic(re.compile(r"(?<![a-z0-9-])[a-z0-9-]+\.awsapps\.com"))
    assert not may_be_quadratic(re.compile(r"\b(?:[a-z0-9]+\.){1,126}com\b"))
    assert not may_be_quadratic(re.compile(r"within\s+(\d+)\s*days"))


def test_no_rule_pattern_is_quadratic_in_a_long_run():
    found = rule_patterns()
    assert len(found) > 200  # the walk reached the rules and the lexicon
    assert [f"{where}: {p.pattern}" for where, p in found.items() if may_be_quadratic(p)] == []


def test_no_pattern_of_triage_is_quadratic_in_a_long_run():
    found = module_patterns()
    assert "triage.inert._LINKABLE" in found
    assert [f"{where}: {p.pattern[:120]}" for where, p in found.items() if may_be_quadratic(p)] == []


@pytest.mark.parametrize("name", ["long-run-of-digits", "long-run-of-dotted-labels"])
def test_a_notice_with_long_runs_is_read_as_it_is_without_them(name, tmp_path):
    """An exposed-key notice followed by 40 KB runs of digits, "a.", "0." and letters: it is classified as
    the same notice without the runs (before the fix, the digits alone kept the scan busy for minutes)."""
    data = (HOSTILE / f"{name}.eml").read_bytes()
    plain = tmp_path / "plain.eml"
    plain.write_bytes(b"\r\n".join(line for line in data.split(b"\r\n") if len(line) < 1000))
    kinds = []
    for path in (HOSTILE / f"{name}.eml", plain):
        with open_state(":memory:") as state:
            got, totals = run(open_path(path), state)
        assert totals.skipped == 0
        kinds.append([m["kind"] for m in got.messages])
    assert kinds[0] == kinds[1] == ["exposed-credentials"]
