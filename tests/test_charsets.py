"""Japanese mail in every charset Japanese mailers send, including the mislabelled Windows variants."""

from triage.charsets import decode_bytes, decode_iso2022jp
from triage.headers import decode_header

# Bytes written out by hand from the JIS X 0208 / NEC tables, not produced by the code under test.
# "ア" = JIS 0x2522, "①" = NEC row 13 0x2D21, "髙" = NEC-selected IBM extension 0x7C62 (CP932 0xEEE0).
ISO2022JP_MS = b"\x1b$B\x25\x22\x2d\x21\x7c\x62\x1b(B ok"


def test_iso2022jp_ms_extensions_decode():
    assert decode_iso2022jp(ISO2022JP_MS) == "ア①髙 ok"


def test_iso2022jp_label_uses_the_superset():
    assert decode_bytes(ISO2022JP_MS, "ISO-2022-JP") == "ア①髙 ok"


def test_plain_iso2022jp():
    text = "アカウントが停止されました"
    assert decode_bytes(text.encode("iso2022_jp"), "iso-2022-jp") == text


def test_shift_jis_label_decodes_cp932_extras():
    # Windows writes "①" and "髙" in CP932 and labels it Shift_JIS; the strict codec rejects them.
    data = "請求額①髙".encode("cp932")
    assert decode_bytes(data, "Shift_JIS") == "請求額①髙"


def test_euc_jp():
    assert decode_bytes("東京リージョン".encode("euc_jp"), "EUC-JP") == "東京リージョン"


def test_half_width_katakana_in_iso2022jp():
    assert decode_iso2022jp(b"\x1b(I\x31\x32\x1b(B") == "ｱｲ"


def test_unknown_charset_falls_back_without_raising():
    assert decode_bytes("naïve".encode(), "x-made-up") == "naïve"
    assert decode_bytes(b"\xff\xfe bad", "utf-8").endswith(" bad")


def test_encoded_word_subject():
    assert decode_header("=?ISO-2022-JP?B?GyRCJSIlKyUmJXMlSBsoQg==?= notice") == "アカウント notice"
    assert decode_header("=?UTF-8?B?44Oq44O844K444On44Oz?=") == "リージョン"
    assert decode_header("=?UTF-8?Q?caf=C3=A9?=") == "café"


def test_encoded_word_in_cp932_labelled_shift_jis():
    encoded = "①のお知らせ".encode("cp932")
    import base64

    word = f"=?Shift_JIS?B?{base64.b64encode(encoded).decode()}?="
    assert decode_header(word) == "①のお知らせ"
