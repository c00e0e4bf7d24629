"""The rich-text sanitizer."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.paper.richtext import media_references, plain_text, sanitize


@pytest.mark.parametrize(("html", "expected"), [
    ("<p>a<script>alert(1)</script>b</p>", "<p>ab</p>"),
    ("<SCRIPT>x</SCRIPT>ok", "ok"),
    ("ok<script>alert(1)", "ok"),
    ("a<svg><script>x</script><b>y</b></svg>b", "ab"),
    ('<img src="media:a.png&quot; onerror=&quot;x">', ""),
    ("<style>p{color:red}</style>ok", "ok"),
    ('<b onclick="steal()">x</b>', "<b>x</b>"),
    ('<span onmouseover="x" style="color: red; position: fixed">x</span>',
     '<span style="color: red">x</span>'),
    ('<span style="background-image: url(http://evil)">x</span>', "<span>x</span>"),
    ('<img src="http://evil.example/x.png">', ""),
    ('<img src="https://evil.example/x.png">', ""),
    ('<img src="javascript:alert(1)">', ""),
    ('<img src="data:image/png;base64,AAAA">', ""),
    ('<img src="media:../secret.png">', ""),
    ('<a href="javascript:alert(1)">link</a>', "link"),
    ('<a href="https://example.com">link</a>', "link"),
    ("<iframe src='x'>inner</iframe>after", "after"),
    ("<div><font color=red>text</font></div>", "text"),
    ("<!-- comment -->x", "x"),
    ("a < b & c", "a &lt; b &amp; c"),
    ("&lt;script&gt;", "&lt;script&gt;"),
    ("<b>unclosed", "<b>unclosed</b>"),
    ("</i>stray", "stray"),
    ("<b><i>x</b>y", "<b><i>x</i></b>y"),
    ('<img src="media:fig1.png" onerror="x()" alt="图 1" width="200">',
     '<img src="media:fig1.png" alt="图 1" width="200">'),
])
def test_sanitize(html: str, expected: str) -> None:
    assert sanitize(html) == expected


def test_allowed_markup_is_kept() -> None:
    html = ('<p align="center"><b>粗</b><i>斜</i><u>下</u>H<sub>2</sub>O x<sup>2</sup>'
            '<span style="color: #c00000; font-weight: bold">红</span><br></p>'
            '<ul><li>一</li></ul><ol><li>二</li></ol>'
            '<table border="1" cellpadding="4"><thead><tr><th colspan="2">表头</th></tr></thead>'
            '<tbody><tr><td align="right">1</td><td rowspan="2">2</td></tr></tbody></table>'
            '<img src="media:chart.png" alt="图表" width="320" height="200">')
    assert sanitize(html) == html


def test_strong_and_em_become_b_and_i() -> None:
    assert sanitize("<strong>a</strong><em>b</em>") == "<b>a</b><i>b</i>"


def test_media_references() -> None:
    html = ('<img src="media:a.png"><p><img src="media:b.jpg" alt=""></p>'
            '<img src="http://x/c.png"><img src="media:bad name.png">')
    assert media_references(html) == {"a.png", "b.jpg"}


def test_plain_text() -> None:
    assert plain_text("<p>H<sub>2</sub>O &amp; <script>x</script>CO<sub>2</sub></p>") == "H2O & CO2"


_TOKENS = [
    "<b>", "</b>", "<i>", "</i>", "<p>", "</p>", "<table>", "<tr>", "<td>", "</td>", "</tr>",
    "</table>", "<br>", "<script>", "</script>", "<style>", "</style>", "<svg>", "</svg>",
    '<img src="media:a.png">', '<img src="http://x/y.png">', '<span style="color: red">',
    "</span>", '<b onclick="x()">', "<!--", "-->", "<", ">", "&amp;", "&lt;", "&", '"', "'",
    "=", "/", "中文", "text", " ", "javascript:", "<a href='javascript:x'>", "</a>",
]


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


_ALLOWED_TAGS = {"p", "br", "b", "i", "u", "sub", "sup", "span", "ul", "ol", "li", "table",
                 "thead", "tbody", "tr", "th", "td", "img"}
_ALLOWED_ATTRS = {"align", "style", "colspan", "rowspan", "border", "cellpadding", "src", "alt",
                  "width", "height"}


@given(st.lists(st.sampled_from(_TOKENS), max_size=30).map("".join))
def test_sanitize_is_idempotent_and_safe(html: str) -> None:
    once = sanitize(html)
    assert sanitize(once) == once
    collector = _TagCollector()
    collector.feed(once)
    collector.close()
    for tag, attrs in collector.tags:
        assert tag in _ALLOWED_TAGS, (html, once)
        for name, value in attrs:
            assert name in _ALLOWED_ATTRS, (html, once)
            if name == "src":
                assert value is not None and value.startswith("media:"), (html, once)
