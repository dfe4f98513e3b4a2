"""Decoding the charsets Japanese mail arrives in, including the ones mailers mislabel.

Windows mailers label CP932 text as Shift_JIS and ISO-2022-JP-MS text as ISO-2022-JP; Python's codecs of
those names reject or garble the extra characters (①, 髙, ㈱). We decode Shift_JIS as CP932, and ISO-2022-JP
with our own decoder that maps each JIS X 0208 pair to Shift_JIS and reads it as CP932, a superset of both.
Decoding never raises: unknown labels and labels of codecs that are not text codecs (bz2, hex, rot13,
idna…) fall back to UTF-8 with a defect noted, and bad bytes are replaced.
"""

from __future__ import annotations

import codecs
import re

# label (lower case) -> the codec that decodes every character its senders actually use
_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ms_kanji": "cp932",
    "euc-jp": "euc_jis_2004",
    "x-euc-jp": "euc_jis_2004",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-1": "cp1252",  # what "Latin-1" mail really is
    "us-ascii": "utf-8",  # 8-bit bytes in "ASCII" mail are nearly always UTF-8
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
}
_ISO2022JP = {"iso-2022-jp", "iso2022jp", "iso-2022-jp-ms", "iso-2022-jp-1", "iso-2022-jp-2", "csiso2022jp",
              "iso-2022-jp-3", "iso-2022-jp-2004", "iso2022_jp"}

_ESC = re.compile(rb"\x1b(\(B|\(J|\(I|\$@|\$B|\$\(D|\$\(Q|\$\(O|\$\(B)")


# Codecs that call themselves text encodings but raise on bytes they do not like, even with
# errors="replace" (or always, like "undefined"), or that turn mail into something else than its text.
# Compared in the form codecs.lookup names them ("unicode-escape", not "unicode_escape").
_NOT_FOR_MAIL = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "mbcs", "oem",
                 "charmap", "unicode-internal"}


def text_codec(charset: str | None) -> str | None:
    """The codec that decodes text labelled `charset`, "iso-2022-jp" for our own decoder, None for no label.

    Raises LookupError for a label that names no codec or one that is not a text codec (bz2, hex, zlib,
    base64, rot13, idna…): such a label is a defect and the bytes are read as UTF-8 with replacements.
    """
    label = (charset or "").strip().strip('"').lower().split("*", 1)[0]  # RFC 2231 "utf-8*en"
    if not label:
        return None
    if label in _ISO2022JP:
        return "iso-2022-jp"
    info = codecs.lookup(_ALIASES.get(label, label))  # LookupError for unknown names
    if not getattr(info, "_is_text_encoding", True) or info.name.replace("_", "-") in _NOT_FOR_MAIL:
        raise LookupError(f"charset {label!r} is not a text encoding")
    return info.name


def decode_text(data: bytes, charset: str | None) -> tuple[str, str]:
    """(`data` decoded, a defect or ""). Never raises, whatever the label says."""
    defect = ""
    try:
        codec = text_codec(charset)
    except LookupError:
        codec = "utf-8"
        defect = f"unusable charset {str(charset)[:40]!r}; read as UTF-8"
    if codec == "iso-2022-jp" or (codec is None and b"\x1b$" in data):
        return decode_iso2022jp(data), defect
    codec = codec or "utf-8"
    for attempt in dict.fromkeys((codec, "utf-8")):
        try:
            return data.decode(attempt), defect
        except (UnicodeError, LookupError, ValueError):
            continue
    try:
        return data.decode(codec, errors="replace"), defect
    except (UnicodeError, LookupError, ValueError):  # a codec that raises even when told to replace
        return data.decode("utf-8", errors="replace"), defect or f"charset {codec!r} failed; read as UTF-8"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode `data` labelled `charset`; never raises."""
    return decode_text(data, charset)[0]


def decode_iso2022jp(data: bytes) -> str:
    """ISO-2022-JP and its Microsoft variant (NEC and IBM extensions), via CP932."""
    out: list[str] = []
    mode = b"(B"
    pos = 0
    for match in _ESC.finditer(data):
        out.append(_decode_segment(data[pos:match.start()], mode))
        mode = match.group(1)
        pos = match.end()
    out.append(_decode_segment(data[pos:], mode))
    return "".join(out)


def _decode_segment(segment: bytes, mode: bytes) -> str:
    if not segment:
        return ""
    if mode in (b"$@", b"$B", b"$(B", b"$(O", b"$(Q"):
        return _decode_jis_pairs(segment)
    if mode == b"(I":  # JIS X 0201 katakana, 7-bit: shift into the half-width range of CP932
        return bytes(b + 0x80 if 0x21 <= b <= 0x5F else b for b in segment).decode("cp932", errors="replace")
    if mode == b"$(D":  # JIS X 0212: rare; Python's iso2022_jp_2 knows it
        return (b"\x1b$(D" + segment + b"\x1b(B").decode("iso2022_jp_2", errors="replace")
    return segment.decode("utf-8", errors="replace")  # ASCII / JIS-Roman (8-bit bytes: lenient)


def _decode_jis_pairs(segment: bytes) -> str:
    parts: list[str] = []
    sjis = bytearray()
    i = 0
    while i < len(segment):
        b1 = segment[i]
        if b1 in (0x0A, 0x0D) or i + 1 >= len(segment):  # a line break inside a double-byte run
            parts.append(sjis.decode("cp932", errors="replace"))
            sjis.clear()
            parts.append(chr(b1))
            i += 1
            continue
        sjis += _jis_to_sjis(b1, segment[i + 1])
        i += 2
    parts.append(sjis.decode("cp932", errors="replace"))
    return "".join(parts)


def _jis_to_sjis(j1: int, j2: int) -> bytes:
    s1 = ((j1 + 1) >> 1) + (0x70 if j1 <= 0x5E else 0xB0)
    s2 = j2 + (0x1F if j2 <= 0x5F else 0x20) if j1 % 2 else j2 + 0x7E
    return bytes((s1 & 0xFF, s2 & 0xFF))
