"""Does a domain or a name imitate AWS? Homoglyphs, punycode, digits for letters, words glued around a brand.

Everything is reduced to a "skeleton" (Unicode compatibility form, confusable letters and digits mapped to
the Latin letters they imitate) before it is compared, so `аmazon` (Cyrillic а), `xn--…`, `amaz0n` and
`arnazon` all read as `amazon`. The brand words and the glue words come from the rules data.

This module only compares strings; it never looks a domain up.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from dataclasses import dataclass

# Letters from other scripts (and symbols) that render like Latin ones. Not the whole Unicode confusables
# table: the ones phishing kits are seen to use for "amazon" and "aws".
_CONFUSABLES = str.maketrans({
    "а": "a", "ɑ": "a", "α": "a", "ä": "a", "á": "a", "à": "a", "â": "a", "ã": "a", "å": "a", "ą": "a",
    "ѕ": "s", "ş": "s", "ś": "s", "š": "s",
    "ԝ": "w", "ѡ": "w", "ω": "w", "ŵ": "w", "ẁ": "w", "ẃ": "w",
    "о": "o", "ο": "o", "ӧ": "o", "ö": "o", "ó": "o", "ò": "o", "ô": "o", "õ": "o", "ø": "o", "օ": "o",
    "м": "m", "ṃ": "m", "ḿ": "m",
    "ո": "n", "п": "n", "ñ": "n", "ń": "n", "ṇ": "n", "η": "n",
    "е": "e", "є": "e", "é": "e", "è": "e", "ê": "e", "ë": "e",
    "с": "c", "ϲ": "c", "ç": "c",
    "р": "p", "ρ": "p",
    "х": "x", "у": "y", "і": "i", "ı": "i", "í": "i", "ì": "i", "ј": "j", "ԁ": "d", "һ": "h", "ӏ": "l",
    "ᴢ": "z", "ż": "z", "ź": "z", "ž": "z", "ʐ": "z",
    "ν": "v", "κ": "k", "τ": "t",
})
_DIGITS = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_PAIRS = (("rn", "m"), ("vv", "w"), ("uu", "w"), ("cl", "d"))


@dataclass(frozen=True)
class Imitation:
    """A domain that looks like AWS's without being one, and how it does it."""

    domain: str
    trick: str  # punycode | homoglyph | digit-for-letter | extra-words

    def __str__(self) -> str:
        return f"{self.domain} imitates AWS ({self.trick})"


def unicode_domain(domain: str) -> str:
    """`xn--` labels decoded to Unicode; labels that do not decode are kept as they are."""
    labels = []
    for label in domain.lower().rstrip(".").split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    return ".".join(labels)


_KANA_MARKS = "\u3099\u309a"  # combining dakuten and handakuten


def skeleton(text: str, *, digits: bool = True, pairs: bool = True) -> str:
    """What a reader sees: compatibility-normalised, lower-case, look-alike letters mapped; with `digits`
    also digits that pass for letters (amaz0n), with `pairs` also letter pairs that pass for one (arnazon)."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(_CONFUSABLES)
    # Accents go (ａｍāzon reads as amazon); the kana voicing marks stay, for ゾ is not ソ (アマゾン).
    folded = unicodedata.normalize("NFC", "".join(ch for ch in unicodedata.normalize("NFKD", folded)
                                                  if not unicodedata.combining(ch) or ch in _KANA_MARKS))
    if digits:
        folded = folded.translate(_DIGITS)
    if pairs:
        for pair, letter in _PAIRS:
            folded = folded.replace(pair, letter)
    return folded


def imitates(
    domain: str, *, aws_domains: tuple[str, ...], brands: tuple[str, ...], glue_words: tuple[str, ...]
) -> Imitation | None:
    """How `domain` imitates an AWS brand, or None when it is AWS's own or does not imitate one."""
    domain = domain.lower().rstrip(".")
    if not domain or any(domain == d or domain.endswith("." + d) for d in aws_domains):
        return None
    shown = unicode_domain(domain)
    letters = skeleton(shown, digits=False, pairs=False)
    if not (_brand_in(letters, brands, glue_words) or _brand_in(skeleton(shown), brands, glue_words)):
        return None
    if any(label.startswith("xn--") for label in domain.split(".")):
        return Imitation(domain, "punycode")
    if not shown.isascii():
        return Imitation(domain, "homoglyph")
    if _brand_in(shown, brands, glue_words):
        return Imitation(domain, "extra-words")
    if _brand_in(skeleton(shown, pairs=False), brands, glue_words):
        return Imitation(domain, "digit-for-letter")
    return Imitation(domain, "homoglyph")  # letter pairs that read as one letter: rn → m


def _brand_in(domain: str, brands: tuple[str, ...], glue_words: tuple[str, ...]) -> bool:
    """A brand as a label's word, glued to known words, or (for long brands) anywhere in a label."""
    labels = domain.split(".")
    if len(labels) > 1:
        labels = labels[:-1]  # the top-level domain says nothing
    glued = _glued(brands, glue_words)
    for label in labels:
        for word in re.split(r"[-_]+", label):
            if not word:
                continue
            for brand in brands:
                if word == brand or (len(brand) >= 6 and brand in word):
                    return True
            if glued is not None and glued.fullmatch(word):
                return True
    return False


@functools.cache
def _glued(brands: tuple[str, ...], glue_words: tuple[str, ...]) -> re.Pattern[str] | None:
    """A brand glued to known words ("awsbilling"), compiled once: built per call, the patterns pushed
    everything else out of re's cache and cost 15 ms a mail."""
    if not glue_words or not brands:
        return None
    glue = "|".join(re.escape(w) for w in sorted(glue_words, key=len, reverse=True))
    brand = "|".join(re.escape(b) for b in brands)
    return re.compile(rf"(?:{glue})*(?:{brand})(?:{glue})*")
