import logging

import pytest
from PySide6.QtCore import Qt, qWarning
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QLabel, QWidget

from client.render import sentinel
from client.render.levels import RenderLevel
from client.ui import render_guard
from client.ui.render_guard import RenderGuard, is_flat, probe_window, visible_part

pytestmark = pytest.mark.qt


def image(width=400, height=300, color=Qt.GlobalColor.white):
    img = QImage(width, height, QImage.Format.Format_ARGB32)
    img.fill(QColor(color))
    return img


def test_flat_image_is_flat(qapp):
    assert is_flat(image())
    assert is_flat(image(color=Qt.GlobalColor.black))
    assert is_flat(QImage())  # nothing at all is as bad as one colour


def test_one_small_line_of_text_is_content(qapp):
    img = image(1280, 800)
    painter = QPainter(img)
    painter.setPen(QColor("black"))
    painter.setFont(QFont("", 9))
    painter.drawText(600, 400, "a")
    painter.end()
    assert not is_flat(img)


def test_tolerance_accepts_near_flat_noise_only(qapp):
    img = image(64, 64)
    img.setPixelColor(3, 3, QColor(253, 254, 255))
    assert not is_flat(img)
    assert is_flat(img, tolerance=2)
    img.setPixelColor(5, 5, QColor(200, 200, 200))
    assert not is_flat(img, tolerance=2)


def test_probe_detects_a_deliberately_blank_window(qtbot):
    blank = QWidget()
    blank.setStyleSheet("background: #f0f0f0;")
    blank.setAutoFillBackground(True)
    blank.resize(320, 200)
    qtbot.addWidget(blank)
    blank.show()
    qtbot.waitExposed(blank)
    result = probe_window(blank)
    assert result.flat and result.color is not None
    assert result.color & 0xFFFFFF == 0xF0F0F0
    assert (result.width, result.height) == (320, 200)


def test_a_blank_window_larger_than_the_screen_is_still_seen_as_blank(qtbot):
    """Issue 14: at 1366x768 or 1024x768 the window reaches past the screen, and the rows
    beyond it grab as black, so a white window looked like content."""
    blank = QWidget()
    blank.setStyleSheet("background: #ffffff;")
    blank.setAutoFillBackground(True)
    qtbot.addWidget(blank)
    blank.show()
    qtbot.waitExposed(blank)
    screen = blank.screen().geometry()
    blank.setGeometry(screen.x(), screen.y(), screen.width() + 176, screen.height() + 100)
    qtbot.wait(50)
    result = probe_window(blank)
    assert result.flat, result
    assert result.color is not None and result.color & 0xFFFFFF == 0xFFFFFF
    assert result.width <= screen.width() and result.height <= screen.height()


def test_visible_part_is_the_window_clipped_to_the_screen():
    from PySide6.QtCore import QRect

    screen = QRect(0, 0, 1366, 768)
    assert visible_part(QRect(83, 0, 1200, 800), screen) == QRect(0, 0, 1200, 768)
    assert visible_part(QRect(-50, -20, 400, 300), screen) == QRect(50, 20, 350, 280)
    assert visible_part(QRect(2000, 0, 100, 100), screen) is None


def test_probe_passes_a_window_with_content(qtbot):
    label = QLabel("请输入准考证号")
    label.resize(320, 200)
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    result = probe_window(label)
    assert not result.flat and result.distinct_colors > 2


@pytest.fixture
def guard_factory(qtbot, tmp_path):
    guards = []

    def make(level=RenderLevel.HARDWARE, configured="auto", **kwargs):
        decision = sentinel.choose_level(configured, tmp_path)
        failures = []
        guard = RenderGuard(state_dir=tmp_path, decision=decision, on_failure=failures.append,
                            **kwargs)
        guards.append(guard)
        return guard, failures, decision

    yield make
    for guard in guards:
        guard.uninstall_message_handler()


def test_message_handler_falls_back_and_calls_back_on_the_gui_thread(qtbot, tmp_path,
                                                                    guard_factory, caplog):
    guard, failures, _ = guard_factory()
    guard.arm()
    guard.install_message_handler()
    with caplog.at_level(logging.WARNING, logger="qt"):
        qWarning("QRhiGles2: Failed to create context")
        qWarning("Failed to create OpenGL context for format QSurfaceFormat()")  # only once
    qtbot.waitUntil(lambda: len(failures) == 1)
    failure = failures[0]
    assert (failure.cause, failure.from_level, failure.next_level) == (
        "qt_message", RenderLevel.HARDWARE, RenderLevel.COMPATIBILITY)
    assert failure.level_changes
    assert "QRhiGles2: Failed to create context" in caplog.text
    assert sentinel.choose_level("auto", tmp_path).level is RenderLevel.COMPATIBILITY
    qtbot.wait(50)
    assert len(failures) == 1


def test_restart_only_when_the_level_changes(guard_factory, qtbot):
    guard, _, _ = guard_factory(configured=2)
    restarts = []
    on_failure = render_guard.restart_on_level_change(lambda: restarts.append(1))
    failure = guard.report_failure(cause="qt_message", reason="Failed to create QRhi")
    assert failure is not None and not failure.level_changes  # user.ini fixes the level
    on_failure(failure)
    assert restarts == []
    changed = render_guard.RenderFailure("qt_message", "x", RenderLevel.HARDWARE,
                                         RenderLevel.COMPATIBILITY)
    on_failure(changed)
    assert restarts == [1]


def test_first_frame_then_probe_confirms_the_level(qtbot, tmp_path, guard_factory):
    guard, failures, decision = guard_factory(healthy_after_s=0.05)
    guard.arm()
    label = QLabel("考试客户端")
    qtbot.addWidget(label)
    with qtbot.waitSignal(guard.confirmed, timeout=5000):
        label.show()
        guard.watch(label)
    assert guard.first_frame_seen and failures == []
    assert not (tmp_path / sentinel.SENTINEL_FILE).exists()
    assert sentinel.read_remembered(tmp_path).level is decision.level


def test_apply_qt_attributes_refuses_once_the_app_exists(qapp):
    with pytest.raises(RuntimeError):
        render_guard.apply_qt_attributes(RenderLevel.SOFTWARE)


def test_pattern_matching():
    assert render_guard.is_graphics_failure("qt.scenegraph: Failed to initialize graphics backend")
    assert render_guard.is_graphics_failure("Failed to create RHI (backend 2)")
    assert not render_guard.is_graphics_failure("QWindowsWindow::setGeometry: Unable to set")
