"""Text that did not come from triage, made inert before it is shown to the owner.

Anything a mail holds (Subject, names, addresses, body lines, their translation) may be written by an
attacker. Before it enters a summary: a URL, host name or address domain is defanged
(`hxxps://console[.]aws[.]amazon…`, `no-reply@amazon[.]com`), so no mail client turns it into a link;
invisible and reordering characters (bidi controls such as U+202E, zero-width spaces, every Unicode
"format" character) are shown as `⟨U+202E⟩`; control characters, CR and LF included, become a space, so
one value stays one line and can never start a header or a heading.

Texts triage wrote itself (templates/texts.toml) are `Trusted` and pass unchanged: only their links
become links. Pure functions; no I/O.
"""

from __future__ import annotations

import re
import unicodedata

# A URL with a scheme mail clients make clickable, or a bare host name (a letter TLD), an e-mail address's
# domain included (clients make addresses mailto: links); the local part of an address is left as it is.
# One pass, no overlap, linear: a host has at most 126 labels before its TLD (DNS allows 127) and ends where
# its labels end, so a longer dotted run is matched from a later label and defanged to its end, never tried
# in full from each of its labels (quadratic: 16 KB of "a.a.a." took seconds).
_LINKABLE = re.compile(
    r"(?P<scheme>(?:https?|ftps?|wss?|hxxps?|fxps?):[/\\]{2})(?P<host>[^\s/?#<>\"'`\\]*)(?P<rest>[^\s<>\"'`]*)"
    r"|(?P<bare>(?:[a-z0-9](?:[a-z0-9\-]{0,62})\.){1,126}[a-z]{2,63}(?!\.[a-z0-9]))(?![A-Za-z0-9_.\-]{0,64}@)",
    re.IGNORECASE,
)
_DOT = re.compile(r"(?<!\[)\.(?!\])")  # a dot not already defanged
_SCHEME = re.compile(r"(https?|ftps?|wss?)(?=:[/\\]{2})", re.IGNORECASE)  # browsers read :\\ as ://
_SCHEMES = {"http": "hxxp", "https": "hxxps", "ftp": "fxp", "ftps": "fxps", "ws": "wx", "wss": "wxs"}


class Trusted(str):
    """A text triage wrote (templates/texts.toml, an already rendered part): shown as it is."""

    __slots__ = ()


def inert(value: str) -> str:
    """`value` safe to show: defanged links, visible format characters, no control characters."""
    if isinstance(value, Trusted):
        return value
    return _unclickable(_LINKABLE.sub(_defang, _visible(value)))


def visible(value: str) -> str:
    """`value` with its hidden characters shown and its controls a space, links left as they are: for a
    text the owner wrote (a path they gave), which must not rewrite the terminal but may be a link."""
    return _visible(value)


def one_line(value: str) -> str:
    """`value` fit for a header of a mail triage sends: controls, CR and LF become spaces, whoever wrote it."""
    return " ".join("".join(" " if _is_control(ch) else ch for ch in value).split())


def has_hidden_chars(value: object) -> bool:
    """True when `value` holds a character a reader cannot see or that reorders text (or a control)."""
    text = str(value)
    # A printable string holds no Cc, Cf, Zl or Zp character (str.isprintable is False for each): the
    # character walk below is for the rest, which is mostly Japanese text with line breaks.
    return not text.isprintable() and any(_is_hidden(ch) or _is_control(ch) for ch in text)


def defang_url(url: str) -> str:
    """One URL defanged: `hxxps://console[.]aws[.]amazon[.]com/…`."""
    return _unclickable(_LINKABLE.sub(_defang, url))


def _unclickable(text: str) -> str:
    """No scheme left that a client makes a link of, wherever a match of _LINKABLE ended: a bare host can
    swallow the scheme of the URL glued to it (`0.https://0` is the host `0.https`, then `://0`)."""
    return _SCHEME.sub(lambda m: _SCHEMES.get(m.group(1).lower(), m.group(1)), text)


def _defang(match: re.Match[str]) -> str:
    """Every scheme in the match made unclickable (a URL may hold another: `…/login=Zhttps://…`), every dot
    bracketed."""
    return _DOT.sub("[.]", _unclickable(match.group(0)))


def _visible(value: str) -> str:
    if value.isprintable():  # no control or format character (see has_hidden_chars): nothing to show
        return value
    out: list[str] = []
    for ch in value:
        if _is_control(ch):
            out.append(" ")
        elif _is_hidden(ch):
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


def _is_control(ch: str) -> bool:
    """C0 and C1 controls, DEL, and the Unicode line and paragraph separators."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _is_hidden(ch: str) -> bool:
    """Format characters: bidi embeddings, overrides and isolates, zero-width (non-)joiners and spaces,
    the word joiner, the BOM, soft hyphens, tag characters."""
    return unicodedata.category(ch) == "Cf"
