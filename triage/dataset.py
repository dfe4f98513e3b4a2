"""The data triage cannot work without, checked whole before any command starts.

Without its rules triage would judge every mail `other` and say nothing, the one failure it exists to
prevent; without its templates or region table it would fail later, in the middle of a case. So every
command (scan, daemon, explain, check-account) first loads the whole data set: the rules folder with at
least one rule for each security kind and every list of the lexicon filled, the templates, the region
names, the IMAP narrowing terms, and that the prices and the glossary are there. What is missing or
broken is one `DataError` or `RulesError` naming the path.

Checking costs more than a scan with nothing new (it compiles every rule's patterns), so a data set found
whole is remembered by its fingerprint: the content of every file in the rules and templates folders and
of the extra rules files, the templates the command starts from, and the code of triage that checks them.
The next run with the same fingerprint does not check again; any change to any of them, or a data set
that never passed, is checked in full.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import fields
from pathlib import Path

from triage.errors import DataError

VERDICT_FILE = "dataset-verdict"  # in the cache folder: the fingerprint of the last data set found whole


def check_dataset(rules_dir: Path, templates_dir: Path, extra: tuple[Path, ...] = (), *,
                  entries: tuple[str, ...] = (), cache_dir: Path | None = None) -> None:
    """Raise DataError or RulesError when the data set is incomplete or broken. `entries`: more templates
    to start from besides the summaries' (the terminal's). `cache_dir`: where the verdict is remembered
    (None: check every time)."""
    if cache_dir is None:
        _check(rules_dir, templates_dir, extra, entries)
        return
    fingerprint = dataset_fingerprint(rules_dir, templates_dir, extra, entries)
    if _remembered(cache_dir) == fingerprint:
        return
    _check(rules_dir, templates_dir, extra, entries)
    _remember(cache_dir, fingerprint)


def _check(rules_dir: Path, templates_dir: Path, extra: tuple[Path, ...], entries: tuple[str, ...]) -> None:
    from triage.account.region_names import load_region_names
    from triage.classify import load_rules
    from triage.mail_providers import load_providers
    from triage.relevance import load_narrowing
    from triage.render import check_templates, load_texts

    rules = load_rules(rules_dir, extra)
    security = {name for name in rules.kinds if rules.kinds[name].security}
    missing = sorted(security - {rule.kind for rule in rules.rules})
    if missing:
        raise DataError(f"the rules in {rules_dir} have no rule for the security kind(s) {', '.join(missing)}; "
                        f"such mail would be judged `other`: reinstall triage or restore the rules files")
    # Rules without the lexicon (who AWS is, the words behind the signals) load, but match nothing: no
    # mail is from AWS, so a compromise notice is `other`. Every list the lexicon has must hold something.
    empty = ([] if rules.aws_domains else ["aws_domains"]) + [
        f"[lexicon] {field.name}" for field in fields(rules.lexicon) if not getattr(rules.lexicon, field.name)]
    if empty:
        raise DataError(f"the rules in {rules_dir} have no {', '.join(empty)}; without them no mail is "
                        f"recognised as AWS mail: reinstall triage or restore the rules files (00-lexicon.toml)")
    load_texts(templates_dir)
    check_templates(templates_dir)
    if entries:
        check_templates(templates_dir, entries)
    load_region_names(rules_dir)
    load_narrowing(rules_dir)
    load_providers(rules_dir)
    # The prices, the mining signs and the glossary are read (and checked whole) by the stages that use
    # them, the account check and translation; a run without those stages must not import boto3 or deepl.
    for name in ("prices.toml", "mining.toml", "glossary.tsv"):
        if not (rules_dir / name).is_file():
            raise DataError(f"the data file {rules_dir / name} is missing; reinstall triage, or point "
                            f"TRIAGE_DATA_DIR at a folder holding rules/ and templates/")


def dataset_fingerprint(rules_dir: Path, templates_dir: Path, extra: tuple[Path, ...] = (),
                        entries: tuple[str, ...] = ()) -> str:
    """What the verdict depends on: the data's content (a file edited within the same second, to the same
    size, is still a change), the names checked, and triage's own code by name, size and change time (an
    upgrade may check more)."""
    digest = hashlib.sha256()
    for folder in (rules_dir, templates_dir):
        digest.update(b"\0folder\0" + str(folder).encode())
        for path in _files(folder):
            digest.update(b"\0file\0" + str(path.relative_to(folder)).encode() + b"\0" + _content(path))
    for path in extra:
        digest.update(b"\0extra\0" + str(path).encode() + b"\0" + _content(path))
    digest.update(b"\0entries\0" + "\0".join(entries).encode())
    code = Path(__file__).resolve().parent
    for path in sorted(code.rglob("*.py")):
        with contextlib.suppress(OSError):
            stat = path.stat()
            digest.update(f"\0code\0{path.relative_to(code)}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.rglob("*") if p.is_file())
    except OSError:
        return []


def _content(path: Path) -> bytes:
    try:
        return b"+" + path.read_bytes()
    except OSError:
        return b"-"  # missing or unreadable: a fingerprint of its own, which the check then meets


def _remembered(cache_dir: Path) -> str:
    try:
        return (cache_dir / VERDICT_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _remember(cache_dir: Path, fingerprint: str) -> None:
    """Written whole or not at all (another run may read it meanwhile); a cache that cannot be written only
    means the next run checks again."""
    target = cache_dir / VERDICT_FILE
    partial = target.with_name(f"{VERDICT_FILE}.{os.getpid()}.partial")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial.write_text(fingerprint + "\n", encoding="ascii")
        partial.replace(target)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()
