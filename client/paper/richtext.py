"""The HTML subset allowed in question stems, options and titles, and its sanitizer.

Paper text is HTML because authors need bold, sub/superscripts, lists and tables, and the
client renders it with Qt's rich-text engine. The subset (documented in docs/formats.md,
"Rich text") is what that engine renders well and what cannot reach outside the package:

- tags: p br b strong i em u sub sup span ul ol li table thead tbody tr th td img
- ``span style`` with color, background-color, font-weight, font-style, text-decoration
- ``p/td/th align``, ``td/th colspan/rowspan``, ``table border/cellpadding``
- ``img src="media:NAME"`` (a media file inside the paper) with optional alt/width/height

Everything else is removed: unknown tags are dropped but their text is kept, the content of
script/style-like elements is dropped entirely, attributes outside the whitelist are dropped
(so every ``on*`` handler), and an ``img`` whose src is not ``media:NAME`` (http, https,
javascript, data, file ...) is dropped.

Why not bleach or nh3: the whitelist is small and fixed, the stdlib ``html.parser`` tokenizes
real-world HTML well enough, and the output is rebuilt from scratch (every text and attribute
value re-escaped, every tag balanced), so the sanitizer stays a short, reviewable module and
the frozen client carries no extra dependency (bleach is deprecated; nh3 is a native wheel).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from html.parser import HTMLParser

from client.i18n import _
from client.paper.media import is_valid_media_name

MEDIA_SCHEME = "media:"

_VOID_TAGS = frozenset({"br", "img"})
_CONTAINER_TAGS = frozenset(
    {"p", "b", "strong", "i", "em", "u", "sub", "sup", "span",
     "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td"}
)
# Elements whose text is not prose: dropping only the tags would show code to the candidate.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "template", "noscript", "textarea",
     "select", "svg", "math", "head", "title"}
)

_ALIGN = re.compile(r"^(left|center|right)$")
_SMALL_INT = re.compile(r"^[1-9][0-9]?$")
_DIMENSION = re.compile(r"^[1-9][0-9]{0,3}$")
_BORDER = re.compile(r"^[0-9]$")
_COLOR = re.compile(
    r"^(#[0-9a-f]{3}|#[0-9a-f]{6}|[a-z]{3,20}"
    r"|rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\))$"
)
_STYLE_VALUES: dict[str, re.Pattern[str]] = {
    "color": _COLOR,
    "background-color": _COLOR,
    "font-weight": re.compile(r"^(normal|bold|[1-9]00)$"),
    "font-style": re.compile(r"^(normal|italic)$"),
    "text-decoration": re.compile(r"^(none|underline|line-through)$"),
}


def _clean_style(value: str) -> str | None:
    kept: list[str] = []
    for declaration in value.split(";"):
        name, sep, raw = declaration.partition(":")
        name, raw = name.strip().lower(), raw.strip().lower()
        pattern = _STYLE_VALUES.get(name)
        if sep and pattern is not None and pattern.match(raw):
            kept.append(f"{name}: {raw}")
    return "; ".join(kept) or None


def _pattern_check(pattern: re.Pattern[str]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        value = value.strip().lower()
        return value if pattern.match(value) else None

    return check


def _plain(value: str) -> str | None:
    return value


def _media_src(value: str) -> str | None:
    value = value.strip()
    if value.startswith(MEDIA_SCHEME) and is_valid_media_name(value[len(MEDIA_SCHEME):]):
        return value
    return None


_ATTRIBUTES: dict[str, dict[str, Callable[[str], str | None]]] = {
    "p": {"align": _pattern_check(_ALIGN)},
    "span": {"style": _clean_style},
    "td": {"align": _pattern_check(_ALIGN), "colspan": _pattern_check(_SMALL_INT),
           "rowspan": _pattern_check(_SMALL_INT)},
    "th": {"align": _pattern_check(_ALIGN), "colspan": _pattern_check(_SMALL_INT),
           "rowspan": _pattern_check(_SMALL_INT)},
    "table": {"border": _pattern_check(_BORDER), "cellpadding": _pattern_check(_SMALL_INT)},
    "img": {"src": _media_src, "alt": _plain, "width": _pattern_check(_DIMENSION),
            "height": _pattern_check(_DIMENSION)},
}
_NORMALISED_TAG = {"strong": "b", "em": "i"}


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.media: set[str] = set()
        self._open: list[str] = []
        self._dropping: list[str] = []  # open elements whose content is being dropped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping or tag in _DROP_WITH_CONTENT:
            if tag in _DROP_WITH_CONTENT:
                self._dropping.append(tag)
            return
        tag = _NORMALISED_TAG.get(tag, tag)
        if tag not in _VOID_TAGS and tag not in _CONTAINER_TAGS:
            return
        allowed = _ATTRIBUTES.get(tag, {})
        kept: dict[str, str] = {}
        for name, raw in attrs:
            check = allowed.get(name)
            value = check(raw or "") if check is not None else None
            if value is not None and name not in kept:
                kept[name] = value
        if tag == "img":
            if "src" not in kept:
                return  # a remote, script or data image: never fetched, never shown
            self.media.add(kept["src"][len(MEDIA_SCHEME):])
        rendered = "".join(f' {name}="{escape(value, quote=True)}"' for name, value in kept.items())
        self.out.append(f"<{tag}{rendered}>")
        if tag not in _VOID_TAGS:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS and tag not in _DROP_WITH_CONTENT:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._dropping:
            if tag == self._dropping[-1]:
                self._dropping.pop()
            return
        tag = _NORMALISED_TAG.get(tag, tag)
        if tag not in self._open:
            return  # a stray end tag, or the end of a dropped element
        while self._open:
            closing = self._open.pop()
            self.out.append(f"</{closing}>")
            if closing == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.out.append(escape(data, quote=False))

    def finish(self) -> str:
        self.close()
        while self._open:
            self.out.append(f"</{self._open.pop()}>")
        return "".join(self.out)


def sanitize(html: str) -> str:
    """Return *html* reduced to the subset, well formed (idempotent: sanitize twice = once)."""
    parser = _Sanitizer()
    parser.feed(html)
    return parser.finish()


def media_references(html: str) -> set[str]:
    """Names of the media files that the sanitized *html* shows (``<img src="media:NAME">``)."""
    parser = _Sanitizer()
    parser.feed(html)
    parser.finish()
    return parser.media


def plain_text(html: str, *, image_alt: bool = False) -> str:
    """The text of *html* without any markup (window titles, logs, search). With
    *image_alt*, each image is read as its alt text ("（图片：柱状图）"): what a screen
    reader says for the question, since Qt's rich-text label gives it no image at all."""

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

        def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.handle_starttag(tag, attrs)

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "img" and image_alt:
                alt = (dict(attrs).get("alt") or "").strip()
                self.parts.append(_("（图片：{alt}）").format(alt=alt) if alt else _("（图片）"))

    parser = _Text()
    parser.feed(sanitize(html))
    parser.close()
    return "".join(parser.parts)
