"""README.md sends a reader only to files that are in the repository (no DESIGN.md, no notes elsewhere),
and its table of exit codes is the one `ExitStatus` has."""

from __future__ import annotations

import re
from pathlib import Path

from triage.errors import ExitStatus

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MIME_TYPE = re.compile(r"(text|message|multipart|application|image|audio|video)/[\w.+-]+")  # `message/rfc822`


def _named_paths() -> set[str]:
    """Repository paths the README names: in `code`, as link targets, and every *.md file name."""
    named = {t for t in re.findall(r"\]\(([^)#\s]+)\)", README) if "://" not in t}  # a web link is no path
    for token in re.findall(r"`([^`\n]+)`", README):
        for word in token.split():
            if ("/" in word and not word.startswith(("/", "~", "$", "http", "-")) and re.fullmatch(r"[\w./@*-]+", word)
                    and not MIME_TYPE.fullmatch(word)):
                named.add(word)
    named.update(re.findall(r"(?<![\w/.-])([\w-]+\.md)\b", README))
    return named


def test_every_path_the_readme_names_is_in_the_repository() -> None:
    named = _named_paths()
    assert "rules/README.md" in named and "contrib/triage@.service" in named  # the check sees paths
    missing = sorted(p for p in named if not any(ROOT.glob(p.rstrip("/"))))
    assert missing == []


def test_the_exit_code_table_is_the_enum() -> None:
    table = re.search(r"### Exit codes\n\n(.*?)\n\n", README, re.S)
    assert table
    codes = [int(c) for c in re.findall(r"^\| `(\d+)` \|", table.group(1), re.M)]
    assert codes == sorted(int(s) for s in ExitStatus)
