"""The notice slot above the question with several notices at once (an audio failure, the
store, the camera, a 切屏): every notice readable at its full height, the question still
usable at 1024x768. A fixed two-line slot squeezed four notices into 12 px strips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QLabel, QWidget
from screen_support import offline_window, show_page

from client.camera.proctor_monitor import Condition
from client.camera.proctor_monitor import notice_text as camera_text
from client.lockdown.focus import LockdownEvent
from client.lockdown.focus import notice_text as lockdown_text
from client.ui.camera_notice import ProctorNoticeBar
from client.ui.exam_page import ExamPage

pytestmark = pytest.mark.qt

AUDIO = "无法播放音频：请检查耳机或音箱是否连接，并告知监考教师（本次播放不计次数）"
STORE = ("数据目录 C:\\ExamClient\\data 位于系统盘。若本机装有还原软件，重启后答案可能丢失；"
         "请在 user.ini 中把数据目录设到其他磁盘（如 D 盘）。")


def four_notices(page: ExamPage) -> list[QWidget]:
    """The four kinds the exam shows, built as the window builds them."""
    page.show_message(AUDIO)
    store = QLabel(STORE, page)
    store.setObjectName("storeNotice")
    store.setWordWrap(True)
    page.insert_notice(store)
    camera = ProctorNoticeBar(page)
    camera.label.setText(camera_text(Condition.CAMERA_UNAVAILABLE))
    camera.setVisible(True)
    page.insert_notice(camera)
    away = QLabel(lockdown_text(LockdownEvent(kind="focus_lost", number=3, started_ms=0)))
    away.setObjectName("notice")
    away.setWordWrap(True)
    page.insert_notice(away)
    return [page.notice_slot.message, store, camera.label, away]


def fully_readable(label: QWidget, slot: Any) -> bool:
    """The label has the height its text needs at its width, and once scrolled to it,
    all of it is inside the slot's visible area."""
    needed = label.heightForWidth(label.width()) if label.hasHeightForWidth() \
        else label.sizeHint().height()
    if label.height() < needed:
        return False
    slot.ensureWidgetVisible(label, 0, 0)
    viewport = slot.viewport()
    top = label.mapTo(viewport, QPoint(0, 0)).y()
    return top >= 0 and top + label.height() <= viewport.height()


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_four_notices_are_each_readable_at_1024x768(qtbot: Any, tmp_path: Path,
                                                     scale: float) -> None:
    window = offline_window(qtbot, tmp_path)
    window.resize(1024, 768)
    window.show()
    qtbot.waitExposed(window)
    show_page(window, "exam")
    page = window.exam_page
    assert page is not None
    while page._font_scale < scale:
        page.zoom(+1)
    qtbot.wait(20)
    empty_height = page.notice_slot.height()
    question_before = page.stack.height()
    labels = four_notices(page)
    slot = page.notice_slot
    qtbot.wait(100)
    for label in labels:  # the fixed slot left each 12-13 px of the 22-44 px it needs
        assert label.isVisible()
        assert fully_readable(label, slot), (label.objectName(), label.height(),
                                             label.heightForWidth(label.width()))
    assert slot.height() > empty_height  # grown to fit them
    # The question keeps most of the screen: its stem and answer stay usable.
    question = page.stack.height()
    assert question >= 300 and question >= 0.75 * question_before, (question, question_before)
    assert slot.height() <= max(slot.max_height(), empty_height)
    # The audio message goes after its time; the slot fits the others again.
    slot._clear.timeout.emit()
    qtbot.wait(100)
    assert not slot.message.isVisible()
    for label in labels[1:]:
        assert fully_readable(label, slot)
    window.lockdown.release()


def test_one_notice_does_not_move_the_question(qtbot: Any, tmp_path: Path) -> None:
    window = offline_window(qtbot, tmp_path)
    window.resize(1024, 768)
    window.show()
    qtbot.waitExposed(window)
    show_page(window, "exam")
    page = window.exam_page
    assert page is not None
    qtbot.wait(200)  # the page settled, as long before any notice in a real exam
    before = page.stack.mapTo(page, page.stack.rect().topLeft())
    away = QLabel(lockdown_text(LockdownEvent(kind="focus_lost", number=1, started_ms=0)))
    away.setWordWrap(True)
    page.insert_notice(away)
    qtbot.wait(30)
    assert page.stack.mapTo(page, page.stack.rect().topLeft()) == before
    assert fully_readable(away, page.notice_slot)
    window.lockdown.release()
