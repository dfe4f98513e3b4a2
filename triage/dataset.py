"""The data triage cannot work without, checked whole before any command starts.

Without its rules triage would judge every mail `other` and say nothing, the one failure it exists to
prevent; without its templates or region table it would fail later, in the middle of a case. So every
command (scan, daemon, explain, check-account) first loads the whole data set: the rules folder with at
least one rule for each security kind and every list of the lexicon filled, the templates, the region
names, the IMAP narrowing terms, and that the prices and the glossary are there. What is missing or
broken is one `DataError` or `RulesError` naming the path.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from triage.errors import DataError


def check_dataset(rules_dir: Path, templates_dir: Path, extra: tuple[Path, ...] = ()) -> None:
    from triage.account.region_names import load_region_names
    from triage.classify import load_rules
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
    load_region_names(rules_dir)
    load_narrowing(rules_dir)
    # The prices, the mining signs and the glossary are read (and checked whole) by the stages that use
    # them, the account check and translation; a run without those stages must not import boto3 or deepl.
    for name in ("prices.toml", "mining.toml", "glossary.tsv"):
        if not (rules_dir / name).is_file():
            raise DataError(f"the data file {rules_dir / name} is missing; reinstall triage, or point "
                            f"TRIAGE_DATA_DIR at a folder holding rules/ and templates/")
