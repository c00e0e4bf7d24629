"""The application's look: one stylesheet, calm colours, large touch-friendly controls."""

from __future__ import annotations

ACCENT = "#1f6fb2"
ANSWERED = "#2e8b57"
FLAGGED = "#d98c00"
DANGER = "#c0392b"

STYLESHEET = f"""
QWidget {{ font-size: 15px; }}
QLabel#title {{ font-size: 26px; font-weight: bold; color: #1b2a3a; }}
QLabel#subtitle {{ font-size: 16px; color: #4a5a6a; }}
QLabel#error {{ color: {DANGER}; font-size: 15px; }}
QLabel#warning {{ color: #8a5a00; background: #fff4d6; border: 1px solid #f0d48a;
                  border-radius: 4px; padding: 6px; }}
QLabel#hint {{ color: #4a5a6a; background: #eef4fa; border: 1px solid #c9dced;
               border-radius: 4px; padding: 8px; }}
QLabel#countdown {{ font-size: 40px; font-weight: bold; color: {ACCENT}; }}
QLabel#timer {{ font-size: 20px; font-weight: bold; color: #1b2a3a; }}
QLabel#timer[urgent="true"] {{ color: {DANGER}; }}
QLabel#saveState {{ color: #4a5a6a; }}
QLabel#storeNotice {{ color: #8a5300; padding: 2px 8px; }}
QLabel#saveState[state="offline"] {{ color: #8a5a00; }}
QLabel#saveState[state="error"] {{ color: {DANGER}; font-weight: bold; }}
QFrame#card {{ background: white; border: 1px solid #d5dde5; border-radius: 8px; }}
QWidget#page {{ background: #f3f6f9; }}
QWidget#questionPane {{ background: white; }}
QDialog {{ background: white; }}
QPushButton {{ padding: 7px 16px; border-radius: 4px; border: 1px solid #b8c4d0;
               background: #ffffff; }}
QPushButton:hover {{ background: #eef4fa; }}
QPushButton:disabled {{ color: #9aa5b0; background: #f0f0f0; }}
QPushButton#primary {{ background: {ACCENT}; color: white; border: none; font-weight: bold; }}
QPushButton#primary:disabled {{ background: #9fb8cf; }}
QPushButton#navButton {{ min-width: 34px; max-width: 34px; min-height: 30px; padding: 0;
                         background: white; }}
QPushButton#navButton[answered="true"] {{ background: {ANSWERED}; color: white;
                                          border: none; }}
QPushButton#navButton[flagged="true"] {{ border: 3px solid {FLAGGED}; }}
QPushButton#navButton[current="true"] {{ font-weight: bold; text-decoration: underline; }}
QLineEdit, QPlainTextEdit {{ padding: 5px; border: 1px solid #b8c4d0; border-radius: 4px;
                             background: white; }}
"""
