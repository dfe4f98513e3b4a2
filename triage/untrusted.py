"""Text someone else chose (resource names, tags, IAM user names an intruder picked), shown inert.

Nothing in it may become live in what triage sends: an address is defanged (no mail client makes it a
link), and invisible or direction-changing characters are shown as their code points, so a name cannot
hide or reorder the text around it.
"""

from __future__ import annotations

import re
import unicodedata

_SCHEME = re.compile(r"(?i)\b(h)(ttps?|xxps?)(://)")
_HOST = re.compile(r"(?i)\b((?:[a-z0-9-]+\.)+)([a-z]{2,})\b")


def inert(value: object) -> str:
    text = str(value)
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Zl", "Zp") or (category == "Zs" and ch != " "):
            out.append(f"<U+{ord(ch):04X}>")
        else:
            out.append(ch)
    text = "".join(out)
    text = _SCHEME.sub(lambda m: f"{m.group(1)}xx{m.group(2)[2:]}[://]", text)
    if "[://]" in text or "www." in text.lower() or "@" in text:
        text = _HOST.sub(lambda m: m.group(1)[:-1].replace(".", "[.]") + "[.]" + m.group(2), text)
    return text
