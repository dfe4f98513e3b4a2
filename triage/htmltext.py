"""HTML mail as readable text, and the links it carries.

mail-parser leaves HTML-only mail without text; classification and translation need the words, and the
phishing checks need every link target. Scripts, styles and hidden preheaders are dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
          "blockquote", "section", "article", "header", "footer", "hr", "pre", "title", "center"}
_SKIP = {"script", "style", "head", "noscript", "template"}
_URL = re.compile(r"""https?://[^\s<>"')\]]+""", re.I)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self._hidden: list[str] = []  # tags opened with display:none, closed in order

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag in _SKIP:
            self._skip += 1
            return
        style = attributes.get("style", "").replace(" ", "").lower()
        if "display:none" in style and tag not in ("br", "img", "hr"):
            self._hidden.append(tag)
            self._skip += 1
            return
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"].strip())
        if tag == "img" and attributes.get("alt"):
            self.parts.append(attributes["alt"])
        if tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "td":
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()
            self._skip = max(0, self._skip - 1)
            return
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    """Readable text of `html` and the href targets of its links, in order."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, parser.links


def urls_in_text(text: str) -> list[str]:
    return [m.group(0).rstrip(".,;:") for m in _URL.finditer(text)]
