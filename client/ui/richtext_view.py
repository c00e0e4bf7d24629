"""Show a paper's sanitized HTML in a QLabel, with its media inlined as data: URLs.

The paper's HTML was sanitized when the package was opened (client/paper/richtext.py);
images refer to the paper's own media as ``media:NAME``. Qt's rich-text engine reads
data: URLs, so media never touch the disk in plain form.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

_MEDIA_SRC = re.compile(r"""src=(["'])media:([^"']+)\1""")


def inline_media(html: str, media: Mapping[str, bytes]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        data = media.get(name)
        if data is None:
            return match.group(0)
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return f'src="data:{mime};base64,{base64.b64encode(data).decode()}"'

    return _MEDIA_SRC.sub(replace, html)


class RichTextLabel(QLabel):
    def __init__(self, html: str = "", *, media: Mapping[str, bytes] | None = None) -> None:
        super().__init__()
        self._media = media or {}
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.set_html(html)

    def set_html(self, html: str) -> None:
        self.setText(inline_media(html, self._media))
