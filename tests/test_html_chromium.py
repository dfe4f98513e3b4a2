"""The HTML part of a summary, rendered by a real headless Chromium (Debian's `chromium` with
`fonts-noto-cjk`, installed by `make chromium`) to a PNG under the test's tmp dir.

Checked: the page loads with no console error; its DOM has the structure a reader needs (the title and
severity, the steps as an ordered list, the English reply in a block to copy, one table per region); and
the Japanese renders as Japanese, not tofu. Tofu is told by what it does: every missing glyph is the same
box, so two different Japanese lines of the same length render alike. With the system's fonts they must
render differently; with a font configuration that has no CJK font (the control) they render alike,
which shows the comparison can fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.account_fixture import load_report
from tests.scanning import run
from tests.test_golden_summaries import CONFIG, CORPUS
from triage.inert import inert
from triage.pipeline import ScanOptions, Services
from triage.render import Summary
from triage.sources.files import open_path
from triage.state import open_state

ROOT = Path(__file__).parent
REPORT = ROOT / "golden" / "compromise-re-case-action-required+attacked.account.json"
MAIL = CORPUS / "compromise-re-case-action-required.eml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
NO_CJK_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts/truetype/dejavu</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""


def _summary_html() -> str:
    """The HTML part of the summary as it is sent (a summary printed instead has none)."""
    report = load_report(REPORT)
    sent: list[Summary] = []
    with open_state(":memory:") as state:
        got, _ = run(open_path(MAIL), state, config=CONFIG, options=ScanOptions(no_translate=True),
                     services=Services(check_account=lambda case: report, send=sent.append))
    [outcome] = got.cases
    assert outcome.delivery == "sent" and [s.case_id for s in sent] == [outcome.case.case_id]
    return sent[0].html


def _chromium(page: Path, out: Path, *extra: str, env: dict[str, str] | None = None,
              size: str = "1000,1400") -> subprocess.CompletedProcess[str]:
    profile = out.parent / f"profile-{out.stem}"
    profile.mkdir()
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}", *extra,
                           page.as_uri()], capture_output=True, text=True, timeout=400,
                          env={**os.environ, **(env or {})}, check=True)


def _screenshot(page: Path, png: Path, env: dict[str, str] | None = None, size: str = "1000,1400") -> bytes:
    _chromium(page, png, f"--screenshot={png}", env=env, size=size)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), f"{png} is no PNG"
    return data


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make chromium` (Debian: chromium fonts-noto-cjk)", pytrace=False)
    path = tmp_path_factory.mktemp("html") / "summary.html"
    path.write_text(_summary_html(), encoding="utf-8")
    return path


def test_the_summary_renders_to_a_png_with_no_console_error(page: Path) -> None:
    png = page.parent / "summary.png"
    result = _chromium(page, png, f"--screenshot={png}")
    assert png.stat().st_size > 10_000, "a page with text, not a blank image"
    assert _console_errors(result.stderr) == []


def test_the_console_check_sees_an_error_when_there_is_one(tmp_path: Path) -> None:
    # The control for the test above: a page whose script fails is caught by the same check.
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>undefined_function();</script></body></html>")
    result = _chromium(broken, tmp_path / "broken.png", f"--screenshot={tmp_path / 'broken.png'}")
    assert _console_errors(result.stderr), result.stderr[-2000:]


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        key = tag + "".join(f".{c}" for c in (dict(attrs).get("class") or "").split())
        self.counts[key] = self.counts.get(key, 0) + 1
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")
        self.stack.append(key)

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop().split(".")[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        for key in self.stack:
            self.text.setdefault(key, []).append(data)


def test_the_dom_has_title_severity_ordered_steps_a_reply_block_and_a_table_per_region(page: Path) -> None:
    dom = _chromium(page, page.parent / "dom.png", "--dump-dom").stdout
    parsed = _Structure()
    parsed.feed(dom)
    assert "AWS アカウントが第三者に使われている可能性があります" in "".join(parsed.text["h1"])
    assert "".join(parsed.text["p.severity.severity-critical"]) == "緊急"
    steps = re.findall(r"<li>(.*?)</li>", dom.split("<ol>", 1)[1].split("</ol>", 1)[0], re.S)
    assert len(steps) == 13 and "IAM ユーザー「backup-admin」を削除してください" in steps[2]
    reply = "".join(parsed.text["pre.reply"])
    assert reply.startswith("Hello AWS Support,") and "[your name]" in reply
    meaning = re.findall(r"<li>(.*?)</li>", dom.split('class="reply"', 1)[1].split("</ul>", 1)[0], re.S)
    assert len(meaning) > 5 and any("許可したものではありません" in line for line in meaning), meaning
    report = load_report(REPORT)
    regions = [v for v in report.by_region if v.count]
    assert parsed.counts["table"] == len(regions) + 1  # one per region holding something, and IAM
    rows = parsed.counts.get("tr", 0) + parsed.counts.get("tr.suspicious", 0)
    assert rows == len(report.resources) + parsed.counts["table"]  # a title row per table
    assert all((href.startswith("https://") and ".console.aws.amazon.com/" in href) or
               href.startswith("https://console.aws.amazon.com/") for href in parsed.hrefs)
    assert inert("http://evil.example/x") in dom and "http://evil.example" not in dom  # the name, defanged


def _lines_page(folder: Path, name: str, line: str) -> Path:
    page = folder / f"{name}.html"
    page.write_text(f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><style>body{{margin:0;'
                    f'font: 32px sans-serif}}</style></head><body><p>{line}</p></body></html>', encoding="utf-8")
    return page


def _two_lines_alike(folder: Path, env: dict[str, str] | None) -> bool:
    """Whether two different Japanese lines of the summary, of one length, render to the same image."""
    first, second = "いますぐやること", "見つかったものの一覧"[:8]
    assert len(first) == len(second) and first != second
    a = _screenshot(_lines_page(folder, "a", first), folder / "a.png", env, size="600,80")
    b = _screenshot(_lines_page(folder, "b", second), folder / "b.png", env, size="600,80")
    return a == b


def test_the_japanese_renders_with_glyphs_not_tofu(tmp_path: Path, page: Path) -> None:
    fonts = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True, check=True).stdout
    assert "Noto Sans CJK JP" in fonts, "fonts-noto-cjk is not installed: run `make chromium`"
    with_fonts = tmp_path / "with"
    with_fonts.mkdir()
    assert not _two_lines_alike(with_fonts, None)
    # The control: without a CJK font the same two lines are the same row of boxes.
    without = tmp_path / "without"
    without.mkdir()
    config = without / "fonts.conf"
    config.write_text(NO_CJK_FONTS.format(cache=without / "cache"), encoding="utf-8")
    assert _two_lines_alike(without, {"FONTCONFIG_FILE": str(config)})
