"""Images in questions follow the candidate's zoom, stay sharp, never make the question
area scroll sideways, and are read to screen readers by their alt text.

The sizes are measured on the rendered widget (offscreen grab), not taken from the code's
own bookkeeping: the test image is magenta with black stripes inside a magenta frame, so
the magenta pixels' bounding box is the image as the candidate sees it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QAccessible, QColor, QImage, QImageWriter, QPainter
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget
from screen_support import demo_paper

from client.ui.exam_page import ExamPage
from client.ui.richtext_view import RichTextLabel

pytestmark = pytest.mark.qt

# The author's size at 100 % (the demo chart's attributes); the source has 4x its pixels,
# so every zoom up to 200 % is a downscale of the original.
WIDTH, HEIGHT = 480, 300
ALT = "某校各年级参加模拟考试人数柱状图"
STEM = (f'<p>根据下图回答。</p><p><img src="media:chart.png" alt="{ALT}" '
        f'width="{WIDTH}" height="{HEIGHT}"></p>')


def striped_png() -> bytes:
    """1920x1200: a 32 px magenta frame around 2 px black / 2 px magenta stripes."""
    image = QImage(WIDTH * 4, HEIGHT * 4, QImage.Format.Format_RGB32)
    image.fill(QColor(255, 0, 255))
    painter = QPainter(image)
    for x in range(32, image.width() - 32, 4):
        painter.fillRect(x, 32, 2, image.height() - 64, QColor(0, 0, 0))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    QImageWriter(buffer, QByteArray(b"PNG")).write(image)
    buffer.close()
    return bytes(data.data())


def pixels(widget: QWidget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(bytes(image.constBits()), dtype=np.uint8)
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4]
    return rows.reshape(image.height(), image.width(), 4)[:, :, 2::-1].astype(int)  # RGB


def magenta_box(widget: QWidget) -> tuple[int, int]:
    """Width and height of the magenta pixels' bounding box (the image on screen)."""
    rgb = pixels(widget)
    red, green, blue = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
    mask = (red > 100) & (blue > 100) & (green < 60) & (abs(red - blue) < 30)
    ys, xs = np.nonzero(mask)
    assert len(xs), "no image drawn"
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def question_area(label: RichTextLabel, *, width: int) -> QScrollArea:
    """The label in a question pane's scroll area, as ExamPage builds it."""
    pane = QWidget()
    QVBoxLayout(pane).addWidget(label)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(pane)
    scroll.resize(width, 900)
    return scroll


@pytest.mark.parametrize("zoom", [1.0, 1.5, 2.0])
def test_image_is_drawn_at_the_zoom(qtbot: Any, zoom: float) -> None:
    label = RichTextLabel(STEM, media={"chart.png": striped_png()})
    scroll = question_area(label, width=1400)
    qtbot.addWidget(scroll)
    scroll.show()
    label.set_zoom(zoom)
    qtbot.wait(10)
    width, height = magenta_box(label)
    assert abs(width - WIDTH * zoom) <= 2 and abs(height - HEIGHT * zoom) <= 2, (width, height)


def test_image_at_200_percent_is_rendered_from_the_original_not_stretched(qtbot: Any) -> None:
    label = RichTextLabel(STEM, media={"chart.png": striped_png()})
    scroll = question_area(label, width=1400)
    qtbot.addWidget(scroll)
    scroll.show()
    qtbot.wait(10)  # first shown at 100 %: the stripes average out to one flat colour
    label.set_zoom(2.0)
    qtbot.wait(10)
    rgb = pixels(label)
    ys, xs = np.nonzero((rgb[:, :, 0] > 100) & (rgb[:, :, 1] < 60))
    middle = rgb[(ys.min() + ys.max()) // 2, xs.min() + 40: xs.max() - 40]
    dark = int((middle.max(axis=1) < 60).sum())
    bright = int((middle[:, 0] > 200).sum())
    # 1 px black / 1 px magenta at 960 px: about half of each. A 480 px pixmap stretched
    # to 960 would be flat purple (no column dark or bright).
    assert dark > len(middle) * 0.4 and bright > len(middle) * 0.4, (dark, bright, len(middle))


def test_image_shrinks_to_the_question_area_instead_of_scrolling(qtbot: Any) -> None:
    label = RichTextLabel(STEM, media={"chart.png": striped_png()})
    scroll = question_area(label, width=600)
    qtbot.addWidget(scroll)
    scroll.show()
    label.set_zoom(2.0)  # 960 px wanted, about 580 px there
    qtbot.wait(10)
    width, height = magenta_box(label)
    assert width <= scroll.viewport().width()
    assert scroll.horizontalScrollBar().maximum() == 0
    assert abs(width / height - WIDTH / HEIGHT) < 0.02
    scroll.resize(1400, 900)  # a wider window: the image grows back to its zoom
    qtbot.wait(10)
    assert abs(magenta_box(label)[0] - WIDTH * 2) <= 2


def striped_page() -> ExamPage:
    paper = demo_paper()
    paper = dataclasses.replace(paper, media={**paper.media, "chart.png": striped_png()})
    return ExamPage(paper=paper, candidate="张三（20260001）", language="zh_CN", answers={},
                    plays={})


def chart_question(page: ExamPage) -> int:
    return next(i for i, pane in enumerate(page.panes) if "<img" in pane.item.stem.get("zh_CN"))


@pytest.mark.parametrize(("size", "clicks"), [((1920, 1080), 0), ((1920, 1080), 6),
                                               ((1024, 768), 6)])
def test_zoom_control_scales_the_exam_pages_image(qtbot: Any, size: tuple[int, int],
                                                  clicks: int) -> None:
    page = striped_page()
    qtbot.addWidget(page)
    page.resize(*size)
    page.show()
    index = chart_question(page)
    page.show_question(index)
    for _ in range(clicks):  # A+ from 100 % to 200 %
        qtbot.mouseClick(page.zoom_in_button, Qt.MouseButton.LeftButton)
    assert page.zoom_level.text() == ("200%" if clicks else "100%")
    qtbot.wait(10)
    stem = page.panes[index].stem
    scroll = page.stack.currentWidget()
    assert isinstance(scroll, QScrollArea)
    width, _height = magenta_box(stem)
    wanted = round(WIDTH * page.font_scale)
    room = scroll.viewport().width()
    assert width <= room and scroll.horizontalScrollBar().maximum() == 0
    assert abs(width - min(wanted, room - 30)) <= 30, (width, wanted, room)
    if size[0] == 1920:
        assert abs(width - wanted) <= 2


def test_screen_readers_hear_the_alt_text(qtbot: Any) -> None:
    label = RichTextLabel(STEM, media={"chart.png": striped_png()})
    qtbot.addWidget(label)
    interface = QAccessible.queryAccessibleInterface(label)
    assert interface is not None
    assert ALT in interface.text(QAccessible.Text.Name)
    page = striped_page()
    qtbot.addWidget(page)
    stem = page.panes[chart_question(page)].stem
    stem_interface = QAccessible.queryAccessibleInterface(stem)
    assert stem_interface is not None
    assert stem_interface.text(QAccessible.Text.Name).startswith("第 2 题")  # named by number
    assert ALT in stem_interface.text(QAccessible.Text.Description)
