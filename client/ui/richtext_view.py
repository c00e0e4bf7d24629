"""Show a paper's sanitized HTML in a QLabel, with its images at the candidate's zoom.

The paper's HTML was sanitized when the package was opened (client/paper/richtext.py);
images refer to the paper's own media as ``media:NAME``. Qt's rich-text engine reads
data: URLs, so media never touch the disk in plain form.

Images follow the page's zoom (A+/A-) like the text does. Each one is re-rendered from the
paper's original image at the size it is shown (times the screen's pixel ratio), never
stretched from a smaller pixmap, so a chart at 200 % stays sharp. An image is never wider
than the label, and the label does not ask for the image's width, so a large figure at
200 % shrinks to the question area instead of making it scroll sideways. A screen reader
hears the image's alt text: the label's accessible name is its text with each image read
as its alt text (Qt's own name for a rich-text label leaves images out).
"""

from __future__ import annotations

import base64
import html as html_lib
import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageWriter, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy

from client.paper.richtext import plain_text

_MEDIA_SRC = re.compile(r"""src=(["'])media:([^"']+)\1""")
# The sanitizer writes every img as <img src="media:NAME" ...> with double-quoted,
# escaped attribute values (client/paper/richtext.py), so a small pattern reads it.
_IMG_TAG = re.compile(r"<img\b([^>]*)>")
_ATTRIBUTE = re.compile(r'([a-z]+)="([^"]*)"')
# Room kept between an image and the label's edge: a table cell's padding or a list's
# indent around the image must not push it over the question area.
_EDGE_PX = 8
# The width the label asks for at least: an image never makes the question area wider.
_MIN_WIDTH_PX = 80


def inline_media(html: str, media: Mapping[str, bytes]) -> str:
    """*html* with each media: image as a data: URL at the paper's own bytes and size."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        data = media.get(name)
        if data is None:
            return match.group(0)
        return f'src="{_data_url(name, data)}"'

    return _MEDIA_SRC.sub(replace, html)


def _data_url(name: str, data: bytes) -> str:
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@dataclass(frozen=True)
class ShownImage:
    """One image as it is on screen now: logical size (device-independent pixels) and the
    pixel size it was rendered at from the paper's original."""

    name: str
    width: int
    height: int
    rendered: QSize


def _natural_size(attributes: Mapping[str, str], source: QImage) -> tuple[float, float]:
    """The author's size at 100 % (width/height attributes, the image's own pixels for a
    missing one, keeping the aspect ratio)."""
    sw, sh = max(1, source.width()), max(1, source.height())
    width = int(attributes["width"]) if "width" in attributes else None
    height = int(attributes["height"]) if "height" in attributes else None
    if width is None and height is None:
        return float(sw), float(sh)
    if width is None:
        assert height is not None
        return height * sw / sh, float(height)
    if height is None:
        return float(width), width * sh / sw
    return float(width), float(height)


class RichTextLabel(QLabel):
    def __init__(self, html: str = "", *, media: Mapping[str, bytes] | None = None) -> None:
        super().__init__()
        self._media = media or {}
        self._html = ""
        self._spoken = ""
        self._zoom = 1.0
        self._sources: dict[str, QImage] = {}
        self._rendered: dict[tuple[str, int, int], str] = {}  # (name, w, h) -> data URL
        self.shown_images: list[ShownImage] = []
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.set_html(html)

    def set_html(self, html: str) -> None:
        self._html = html
        # Images read as their alt text: as the name (unless the owner named the label,
        # e.g. the stem by its question number) and as the description.
        spoken = plain_text(html, image_alt=True) if _IMG_TAG.search(html) else ""
        if self.accessibleName() in ("", self._spoken):
            self.setAccessibleName(spoken)
        self.setAccessibleDescription(spoken)
        self._spoken = spoken
        self._render()

    def set_zoom(self, scale: float) -> None:
        """The page's zoom factor (1.0 = 100 %): images follow it like the text."""
        if scale != self._zoom:
            self._zoom = scale
            self._render()

    def minimumSizeHint(self) -> QSize:
        # An image must not widen the question area (it shrinks to fit instead).
        hint = super().minimumSizeHint()
        if not self.shown_images:
            return hint
        return QSize(min(hint.width(), _MIN_WIDTH_PX), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._render()

    # -- images ----------------------------------------------------------------------------
    def _available_width(self) -> int | None:
        """The width an image may take, or None before a layout gave the label its width."""
        if not self.testAttribute(Qt.WidgetAttribute.WA_Resized) and not self.isVisible():
            return None
        return max(1, self.contentsRect().width() - _EDGE_PX)

    def _source(self, name: str) -> QImage | None:
        if name not in self._sources:
            data = self._media.get(name)
            image = QImage.fromData(data) if data is not None else QImage()
            self._sources[name] = image
        image = self._sources[name]
        return None if image.isNull() else image

    def _render(self) -> None:
        if _IMG_TAG.search(self._html) is None:
            self.shown_images = []
            self.setText(self._html)
            return
        available = self._available_width()
        ratio = max(1.0, self.devicePixelRatioF())
        shown: list[ShownImage] = []

        def replace(match: re.Match[str]) -> str:
            attributes = dict(_ATTRIBUTE.findall(match.group(1)))
            src = html_lib.unescape(attributes.get("src", ""))
            name = src.removeprefix("media:")
            source = self._source(name) if src.startswith("media:") else None
            if source is None:
                return inline_media(match.group(0), self._media)
            natural_w, natural_h = _natural_size(attributes, source)
            width = natural_w * self._zoom
            if available is not None and width > available:
                width = float(available)
            height = width * natural_h / natural_w
            w, h = max(1, round(width)), max(1, round(height))
            pixels = QSize(max(1, round(w * ratio)), max(1, round(h * ratio)))
            shown.append(ShownImage(name=name, width=w, height=h, rendered=pixels))
            alt = attributes.get("alt", "")
            return (f'<img src="{self._rendered_url(name, source, pixels)}" alt="{alt}" '
                    f'width="{w}" height="{h}">')

        text = _IMG_TAG.sub(replace, self._html)
        self.shown_images = shown
        if text != self.text():
            self.setText(text)
            self.updateGeometry()

    def _rendered_url(self, name: str, source: QImage, pixels: QSize) -> str:
        """The original image resampled once to exactly *pixels* (a PNG data: URL)."""
        key = (name, pixels.width(), pixels.height())
        url = self._rendered.get(key)
        if url is None:
            if source.size() == pixels:
                url = _data_url(name, self._media[name])
            else:
                scaled = source.scaled(pixels, Qt.AspectRatioMode.IgnoreAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
                data = QByteArray()
                buffer = QBuffer(data)
                buffer.open(QIODevice.OpenModeFlag.WriteOnly)
                QImageWriter(buffer, QByteArray(b"PNG")).write(scaled)
                buffer.close()
                url = f"data:image/png;base64,{base64.b64encode(bytes(data.data())).decode()}"
            if len(self._rendered) > 16:  # zoom steps and window sizes come and go
                self._rendered.clear()
            self._rendered[key] = url
        return url
