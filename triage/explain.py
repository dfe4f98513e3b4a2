"""`triage explain FILE`: everything triage concluded about one mail, and why."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from triage.authenticate import Authenticity, authenticate
from triage.classify import Classification, classify, load_rules
from triage.config import Config
from triage.errors import SourceError
from triage.mail import Mail, Origin, RawMail
from triage.parse import MalformedMail, parse_mail


@dataclass(frozen=True)
class Explanation:
    path: Path
    mail: Mail
    authenticity: Authenticity
    classification: Classification

    @property
    def entities(self) -> dict[str, tuple[object, ...]]:
        found = self.classification.entities
        return {f.name.replace("_", " "): getattr(found, f.name) for f in fields(found)}


def explain_file(path: Path, config: Config, *, rules_dir: Path, offline: bool) -> Explanation:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    try:
        mail = parse_mail(RawMail(data, Origin("eml", str(path))), max_bytes=config.mail.max_bytes)
    except MalformedMail as exc:
        raise SourceError(f"{path} is not a readable mail: {exc}") from None
    rules = load_rules(rules_dir, config.rules.extra)
    auth = authenticate(mail, trusted_authserv_ids=config.mail.trusted_authserv_ids, offline=offline)
    return Explanation(path, mail, auth, classify(mail, auth, rules))
