"""Qt side of the rendering fallback: attributes, the message handler, the first-frame guard
and the white-screen probe.

Call order (docs/rendering.md):
    apply_qt_attributes(decision.level)          # before QApplication
    app = QApplication(...)
    guard = RenderGuard(state_dir=..., decision=..., on_failure=restart_into_exam)
    guard.install_message_handler()
    sentinel.mark_starting(state_dir, decision)  # guard.arm() does this
    window.show(); guard.watch(window)

A graphics failure (a Qt message such as "Failed to create OpenGL context", or a window
that shows one flat colour) is recorded on disk at once, so the next start is one level
lower even if the process dies right after the message; then *on_failure* runs on the GUI
thread (normally: restart the client into the exam).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QMessageLogContext,
    QObject,
    QRect,
    Qt,
    QTimer,
    QtMsgType,
    Signal,
    qInstallMessageHandler,
)
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from client.render import sentinel
from client.render.levels import RenderLevel, qt_attributes_for
from client.render.sentinel import LevelDecision

log = logging.getLogger(__name__)
qt_log = logging.getLogger("qt")

# Messages Qt prints when a graphics path cannot work (checked case-insensitively as
# substrings). Sources: qopenglwidget.cpp, qquickwidget.cpp, qbackingstorerhisupport.cpp,
# qsgrhisupport.cpp, qrhigles2.cpp/qrhid3d11.cpp and the xcb GLX integration (Qt 6).
GRAPHICS_FAILURE_PATTERNS: tuple[str, ...] = (
    "failed to create opengl context",
    "failed to create qrhi",
    "failed to create rhi",
    "failed to initialize graphics backend",
    "failed to get a qrhi",
    "failed to create d3d11 device",
    "failed to create dxgi",
    "failed to create vulkan instance",
    "qrhigles2: failed to create",
    "could not initialize glx",
    "unable to create basic gl context",
    "failed to make context current",
    "qopenglwidget: failed to create context",
)

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def apply_qt_attributes(level: RenderLevel) -> list[str]:
    """Set the level's Qt::ApplicationAttribute values; must run before QApplication."""
    if QCoreApplication.instance() is not None:
        raise RuntimeError("apply_qt_attributes() must run before the QApplication exists")
    names = qt_attributes_for(level)
    for name in names:
        QCoreApplication.setAttribute(getattr(Qt.ApplicationAttribute, name), True)
    return names


def is_graphics_failure(message: str, patterns: Sequence[str] = GRAPHICS_FAILURE_PATTERNS) -> bool:
    lowered = message.lower()
    return any(p in lowered for p in patterns)


@dataclass(frozen=True)
class RenderFailure:
    cause: str  # "qt_message" | "white_screen"
    reason: str
    from_level: RenderLevel
    next_level: RenderLevel

    @property
    def level_changes(self) -> bool:
        return self.next_level != self.from_level


@dataclass(frozen=True)
class ProbeResult:
    flat: bool
    color: int | None  # the one ARGB colour when flat
    distinct_colors: int  # capped: counting stops early once the window clearly has content
    width: int
    height: int
    source: str  # "screen" (what the screen shows) or "widget" (the widget re-rendered)


_DISTINCT_CAP = 256


def is_flat(image: QImage, *, tolerance: int = 0) -> bool:
    return _analyse(image, tolerance=tolerance)[0]


def _analyse(image: QImage, *, tolerance: int) -> tuple[bool, int | None, int]:
    """(flat, colour, distinct colours) over every pixel, not a sample: one line of text in a
    large window must count as content."""
    if image.isNull() or image.width() == 0 or image.height() == 0:
        return True, None, 0
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = memoryview(rgb.constBits()).cast("I")
    first = pixels[0]
    # Fast path: an exactly flat image is one C-level comparison of its bytes.
    if bytes(rgb.constBits()) == first.to_bytes(4, "little") * (rgb.sizeInBytes() // 4):
        return True, first, 1
    colors: set[int] = set()
    step = 4096
    for start in range(0, len(pixels), step):
        colors.update(pixels[start:start + step])
        if len(colors) > _DISTINCT_CAP:
            return False, None, len(colors)
    if tolerance <= 0:
        return len(colors) == 1, first if len(colors) == 1 else None, len(colors)
    for shift in (0, 8, 16):
        channel = [(c >> shift) & 0xFF for c in colors]
        if max(channel) - min(channel) > tolerance:
            return False, None, len(colors)
    return True, first, len(colors)


def visible_part(window: QRect, screen: QRect) -> QRect | None:
    """The part of *window* (screen coordinates) that is on *screen*, in window coordinates;
    None when none is. Rows and columns beyond the screen grab as black: a window larger
    than a 1366x768 or 1024x768 screen would otherwise never look blank."""
    shown = window.intersected(screen)
    if shown.isEmpty():
        return None
    return shown.translated(-window.x(), -window.y())


def grab_window_image(widget: QWidget) -> tuple[QImage, str]:
    """What the screen shows of *widget*'s window (only its part on the screen); the
    widget's own rendering if the platform cannot grab windows."""
    window = widget.window()
    screen = window.screen()
    if screen is not None and window.windowHandle() is not None:
        pixmap = screen.grabWindow(window.winId())
        if not pixmap.isNull():
            image = pixmap.toImage()
            part = visible_part(window.geometry(), screen.geometry())
            if part is not None:
                ratio = image.width() / max(1, window.width())
                image = image.copy(QRect(round(part.x() * ratio), round(part.y() * ratio),
                                         round(part.width() * ratio),
                                         round(part.height() * ratio)))
            return image, "screen"
    return window.grab().toImage(), "widget"


def probe_window(widget: QWidget, *, tolerance: int = 2) -> ProbeResult:
    image, source = grab_window_image(widget)
    flat, color, distinct = _analyse(image, tolerance=tolerance)
    return ProbeResult(flat=flat, color=color, distinct_colors=distinct,
                       width=image.width(), height=image.height(), source=source)


class _FailureRelay(QObject):
    """Carries a failure seen on any thread (the render thread logs too) to the GUI thread."""

    failed = Signal(object)


class RenderGuard(QObject):
    """Watches one start: Qt messages, the first frame, the white-screen probe."""

    first_frame = Signal()  # the watched window received its first paint
    confirmed = Signal()  # first frame seen, probe passed, client stayed up

    def __init__(
        self,
        *,
        state_dir: Path,
        decision: LevelDecision,
        on_failure: Callable[[RenderFailure], None],
        healthy_after_s: float = sentinel.HEALTHY_AFTER_SECONDS,
        patterns: Sequence[str] = GRAPHICS_FAILURE_PATTERNS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._state_dir = state_dir
        self._decision = decision
        self._on_failure = on_failure
        self._healthy_after_ms = int(healthy_after_s * 1000)
        self._patterns = tuple(patterns)
        self._failed: RenderFailure | None = None
        self._window: QWidget | None = None
        self._first_frame = False
        self._confirmed = False
        self._expect_content = True
        self._previous_handler: object = None
        self._relay = _FailureRelay(self)
        self._relay.failed.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._about_to_quit)

    # -- the sentinel ----------------------------------------------------------------

    def arm(self) -> None:
        """Write the start sentinel. Call right before the first window is created."""
        sentinel.mark_starting(self._state_dir, self._decision)

    @property
    def failure(self) -> RenderFailure | None:
        return self._failed

    @property
    def first_frame_seen(self) -> bool:
        return self._first_frame

    # -- Qt messages -----------------------------------------------------------------

    def install_message_handler(self) -> None:
        self._previous_handler = qInstallMessageHandler(self._handle_message)

    def uninstall_message_handler(self) -> None:
        qInstallMessageHandler(None)
        self._previous_handler = None

    def _handle_message(self, mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        # Runs on whichever thread Qt logged from; keep it short and never raise.
        try:
            category = context.category or "default"
            qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "[%s] %s", category, message)
            if mode != QtMsgType.QtDebugMsg and is_graphics_failure(message, self._patterns):
                self.report_failure(cause="qt_message", reason=message)
        except Exception:  # a failing handler would lose Qt's message; log what we can
            log.exception("Qt message handler failed for %r", message)

    # -- the first frame and the probe -----------------------------------------------

    def watch(self, window: QWidget, *, expect_content: bool = True) -> None:
        """Watch *window*'s first paint; N seconds later probe it and confirm the level."""
        self._window = window
        self._expect_content = expect_content
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            not self._first_frame
            and event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and self._window is not None
            and watched.window() is self._window
        ):
            self._first_frame = True
            app = QCoreApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            log.info("first frame painted at level %d", int(self._decision.level))
            sentinel.mark_first_frame(self._state_dir, self._decision)
            QTimer.singleShot(self._healthy_after_ms, self._check_after_first_frame)
            self.first_frame.emit()
        return False

    def _check_after_first_frame(self) -> None:
        if self._failed is not None or self._window is None:
            return
        if self._expect_content:
            result = probe_window(self._window)
            log.info("white-screen probe: %s", result)
            if result.flat:
                self.report_failure(
                    cause="white_screen",
                    reason=(f"window shows one flat colour #{(result.color or 0) & 0xFFFFFF:06x} "
                            f"({result.width}x{result.height}, {result.source})"),
                )
                return
        sentinel.mark_healthy(self._state_dir, self._decision, detail="first frame + probe")
        self._confirmed = True
        self.confirmed.emit()

    def _about_to_quit(self) -> None:
        # A normal exit after the first frame says nothing bad about the level.
        if not self._confirmed and self._failed is None and self._first_frame:
            sentinel.disarm(self._state_dir, why="clean exit after the first frame")

    # -- failures --------------------------------------------------------------------

    def report_failure(self, *, cause: str, reason: str) -> RenderFailure | None:
        """Record the failure on disk now (once per start), then hand it to the GUI thread."""
        if self._failed is not None:
            return None
        level = self._decision.level
        next_level = sentinel.record_failure(
            self._state_dir, level=level, cause=cause, reason=reason,
            automatic=self._decision.automatic,
        )
        failure = RenderFailure(cause=cause, reason=reason, from_level=level,
                                next_level=next_level)
        self._failed = failure
        self._relay.failed.emit(failure)
        return failure

    def _deliver(self, failure: object) -> None:
        if isinstance(failure, RenderFailure):
            self._on_failure(failure)


def restart_on_level_change(restart: Callable[[], None]) -> Callable[[RenderFailure], None]:
    """The usual on_failure: restart into the exam when the next start uses another level.

    When the level cannot change (user.ini fixes it, or already software) restarting would
    only loop; the failure stays logged and in the history for support.
    """

    def on_failure(failure: RenderFailure) -> None:
        if failure.level_changes:
            log.error("restarting at level %d after %s", int(failure.next_level), failure.cause)
            restart()
        else:
            log.error("rendering failure at fixed level %d: %s", int(failure.from_level),
                      failure.reason)

    return on_failure


_GL_VENDOR, _GL_RENDERER, _GL_VERSION = 0x1F00, 0x1F01, 0x1F02


def gpu_info() -> dict[str, object]:
    """Platform plugin, OpenGL module and the GL vendor/renderer/version strings.

    Creates an OpenGL context: run it in a child process (client.diagnostics.gpu), since
    that is the step that crashes on a broken driver.
    """
    from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext

    app = QGuiApplication.instance() or QGuiApplication([])
    info: dict[str, object] = {
        "platform": QGuiApplication.platformName(),
        "opengl_module": QOpenGLContext.openGLModuleType().name,
    }
    screen = QGuiApplication.primaryScreen()
    if screen is not None:
        info["screen"] = {"name": screen.name(), "size": [screen.size().width(),
                                                         screen.size().height()],
                          "dpr": screen.devicePixelRatio()}
    context = QOpenGLContext()
    if not context.create():
        info.update(ok=False, error="QOpenGLContext.create() failed")
        return info
    surface = QOffscreenSurface()
    surface.create()
    if not context.makeCurrent(surface):
        info.update(ok=False, error="QOpenGLContext.makeCurrent() failed")
        return info
    functions = context.functions()
    info.update(
        ok=True,
        gl_vendor=functions.glGetString(_GL_VENDOR),
        gl_renderer=functions.glGetString(_GL_RENDERER),
        gl_version=functions.glGetString(_GL_VERSION),
        gles=context.isOpenGLES(),
    )
    context.doneCurrent()
    del app
    return info


def main() -> int:
    """The GPU probe child process (client/diagnostics/gpu.py): one JSON line on stdout."""
    import json
    import sys

    print(json.dumps(gpu_info(), default=str))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
