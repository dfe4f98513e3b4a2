"""Decoding the charsets Japanese mail arrives in, including the ones mailers mislabel.

Windows mailers label CP932 text as Shift_JIS and ISO-2022-JP-MS text as ISO-2022-JP; Python's codecs of
those names reject or garble the extra characters (①, 髙, ㈱). We decode Shift_JIS as CP932, and ISO-2022-JP
with our own decoder that maps each JIS X 0208 pair to Shift_JIS and reads it as CP932, a superset of both.
Decoding never raises: unknown charsets fall back to UTF-8, then Latin-1, and bad bytes are replaced.
"""

from __future__ import annotations

import codecs
import email.header
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


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode `data` labelled `charset`; never raises."""
    label = (charset or "").strip().strip('"').lower()
    if label in _ISO2022JP or (not label and b"\x1b$" in data):
        return decode_iso2022jp(data)
    codec = _ALIASES.get(label, label) or "utf-8"
    try:
        codecs.lookup(codec)
    except LookupError:
        codec = "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        pass
    if codec != "utf-8":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return data.decode(codec, errors="replace")


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


def decode_header(raw: str | None) -> str:
    """A header value with RFC 2047 encoded-words decoded (with the charset fixes above) and unfolded."""
    if not raw:
        return ""
    value = re.sub(r"\r?\n[ \t]+", " ", str(raw))
    if "=?" not in value:
        return value.strip()
    try:
        chunks = email.header.decode_header(value)
    except (ValueError, LookupError, AssertionError):
        return value.strip()
    text = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            text.append(decode_bytes(chunk, charset) if charset else chunk.decode("utf-8", errors="replace"))
        else:
            text.append(chunk)
    return "".join(text).strip()
