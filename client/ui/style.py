"""The application's look: one stylesheet, in two themes, at any zoom level.

Every size in the sheet is multiplied by the zoom factor, so A+ enlarges options, fill-in
boxes, the essay, buttons and radio indicators along with the question text (a fixed
``QWidget { font-size }`` used to win over the zoomed font). The exam page sets the sheet
at its zoom on itself; the application carries it at 100 %.

The high-contrast theme follows the Windows high-contrast colours: black ground, white
text, yellow focus and selection, cyan links; every state is told by a border or a
mark as well as by colour.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCENT = "#1f6fb2"
ANSWERED = "#2e8b57"
FLAGGED = "#d98c00"
DANGER = "#c0392b"

ZOOM_STEPS = (0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6, 1.8, 2.0)


@dataclass(frozen=True)
class Palette:
    text: str
    muted: str
    page: str
    card: str
    border: str
    accent: str
    accent_text: str
    answered: str
    flagged: str
    danger: str
    warning_text: str
    warning_ground: str
    hint_ground: str
    hover: str
    disabled_text: str
    disabled_ground: str
    focus: str


STANDARD = Palette(text="#1b2a3a", muted="#4a5a6a", page="#f3f6f9", card="#ffffff",
                   border="#b8c4d0", accent=ACCENT, accent_text="#ffffff", answered=ANSWERED,
                   flagged=FLAGGED, danger=DANGER, warning_text="#8a5a00",
                   warning_ground="#fff4d6", hint_ground="#eef4fa", hover="#eef4fa",
                   disabled_text="#6b7785", disabled_ground="#f0f0f0", focus="#1f6fb2")
HIGH_CONTRAST = Palette(text="#ffffff", muted="#ffffff", page="#000000", card="#000000",
                        border="#ffffff", accent="#ffff00", accent_text="#000000",
                        answered="#00ff00", flagged="#ff9900", danger="#ff6060",
                        warning_text="#ffff00", warning_ground="#000000", hint_ground="#000000",
                        hover="#1a1a1a", disabled_text="#c0c0c0", disabled_ground="#000000",
                        focus="#ffff00")


def stylesheet(*, scale: float = 1.0, high_contrast: bool = False) -> str:
    p = HIGH_CONTRAST if high_contrast else STANDARD

    def px(size: float) -> str:
        return f"{max(1, round(size * scale))}px"

    answered_text = "#000000" if high_contrast else "white"
    return f"""
QWidget {{ font-size: {px(15)}; color: {p.text}; }}
QLabel#title {{ font-size: {px(26)}; font-weight: bold; }}
QLabel#subtitle {{ font-size: {px(16)}; color: {p.muted}; }}
QLabel#paperTitle {{ font-size: {px(16)}; font-weight: bold; }}
QLabel#error {{ color: {p.danger}; font-size: {px(15)}; }}
QLabel#warning {{ color: {p.warning_text}; background: {p.warning_ground};
                  border: 1px solid {p.warning_text}; border-radius: 4px; padding: {px(6)}; }}
QLabel#hint {{ color: {p.muted}; background: {p.hint_ground}; border: 1px solid {p.border};
               border-radius: 4px; padding: {px(8)}; }}
QLabel#legend {{ font-size: {px(12)}; color: {p.muted}; }}
QLabel#countdown {{ font-size: {px(40)}; font-weight: bold; color: {p.accent}; }}
QLabel#timer {{ font-size: {px(20)}; font-weight: bold; }}
QLabel#timer[urgent="true"] {{ color: {p.danger}; }}
QLabel#zoomLevel {{ color: {p.muted}; min-width: {px(44)}; }}
QLabel#saveState {{ color: {p.muted}; }}
QLabel#storeNotice, QLabel#notice {{ color: {p.warning_text}; padding: 2px {px(8)}; }}
QLabel#saveState[state="offline"] {{ color: {p.warning_text}; }}
QLabel#saveState[state="error"] {{ color: {p.danger}; font-weight: bold; }}
QLabel#counter[full="true"] {{ color: {p.danger}; font-weight: bold; }}
QLabel#message {{ color: {p.danger}; padding: 0 {px(8)}; }}
QScrollArea#noticeSlot, QWidget#noticeList {{ background: transparent; }}
QFrame#card {{ background: {p.card}; border: 1px solid {p.border}; border-radius: 8px; }}
QWidget#page {{ background: {p.page}; }}
QWidget#questionPane, QWidget#navGrid {{ background: {p.card}; }}
QDialog {{ background: {p.card}; }}
QPushButton {{ padding: {px(7)} {px(16)}; border-radius: 4px; border: 1px solid {p.border};
               background: {p.card}; }}
QPushButton:hover {{ background: {p.hover}; }}
QPushButton:focus, QLineEdit:focus, QPlainTextEdit:focus {{ border: 2px solid {p.focus}; }}
QRadioButton:focus, QCheckBox:focus {{ outline: 2px solid {p.focus};
                                       background: {p.hover}; }}
QPushButton:disabled {{ color: {p.disabled_text}; background: {p.disabled_ground}; }}
QPushButton#primary {{ background: {p.accent}; color: {p.accent_text}; border: none;
                       font-weight: bold; }}
QPushButton#primary:focus {{ border: 3px solid {p.text if high_contrast else '#0b3a60'}; }}
QPushButton#primary:disabled {{ background: {p.disabled_ground};
                                color: {p.disabled_text}; }}
QPushButton:checked {{ border: 3px solid {p.focus}; font-weight: bold; }}
QPushButton#flagButton:checked {{ border: 3px solid {p.flagged}; font-weight: bold; }}
QPushButton#navButton {{ min-width: {px(34)}; max-width: {px(34)}; min-height: {px(30)};
                         padding: 0; background: {p.card}; }}
QPushButton#navButton[answered="true"] {{ background: {p.answered}; color: {answered_text};
                                          border: none; }}
QPushButton#navButton[flagged="true"] {{ border: 3px solid {p.flagged}; }}
QPushButton#navButton[current="true"] {{ font-weight: bold; text-decoration: underline; }}
QRadioButton::indicator, QCheckBox::indicator {{ width: {px(16)}; height: {px(16)}; }}
QLineEdit, QPlainTextEdit {{ padding: {px(5)}; border: 1px solid {p.border}; border-radius: 4px;
                             background: {p.card}; color: {p.text};
                             selection-background-color: {p.accent};
                             selection-color: {p.accent_text}; }}
QToolTip {{ color: {p.text}; background: {p.card}; border: 1px solid {p.border}; }}
QStatusBar {{ background: {p.page}; }}
"""


STYLESHEET = stylesheet()


def next_zoom(current: float, *, step: int) -> float:
    """The zoom level *step* steps from *current* (clamped to the supported range)."""
    nearest = min(range(len(ZOOM_STEPS)), key=lambda i: abs(ZOOM_STEPS[i] - current))
    return ZOOM_STEPS[max(0, min(len(ZOOM_STEPS) - 1, nearest + step))]
