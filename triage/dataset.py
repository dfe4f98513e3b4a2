"""The data triage cannot work without, checked whole before any command starts.

Without its rules triage would judge every mail `other` and say nothing, the one failure it exists to
prevent; without its templates or region table it would fail later, in the middle of a case. So every
command (scan, daemon, explain, check-account) first loads the whole data set: the rules folder with at
least one rule for each security kind, the templates, the region names, the prices, the IMAP narrowing
terms and the glossary. What is missing or broken is one `DataError` or `RulesError` naming the path.
"""

from __future__ import annotations

from pathlib import Path

from triage.errors import DataError


def check_dataset(rules_dir: Path, templates_dir: Path, extra: tuple[Path, ...] = ()) -> None:
    from triage.account.cost import load_prices
    from triage.account.regions import load_region_names
    from triage.classify import load_rules
    from triage.relevance import load_narrowing
    from triage.render import check_templates, load_texts
    from triage.translate.glossary import load_glossary

    rules = load_rules(rules_dir, extra)
    security = {name for name in rules.kinds if rules.kinds[name].security}
    missing = sorted(security - {rule.kind for rule in rules.rules})
    if missing:
        raise DataError(f"the rules in {rules_dir} have no rule for the security kind(s) {', '.join(missing)}; "
                        f"such mail would be judged `other`: reinstall triage or restore the rules files")
    check_templates(load_texts(templates_dir), templates_dir)
    load_region_names(rules_dir)
    load_prices(rules_dir)
    load_narrowing(rules_dir)
    load_glossary(rules_dir / "glossary.tsv")
