"""Rendering levels, the start sentinel and the automatic fallback policy (Qt-free).

Everything here runs before QApplication exists: it decides which graphics path Qt may
use (client/render/levels.py), remembers per PC which one worked and falls back one level
after a start that crashed or showed nothing (client/render/sentinel.py), and decides the
low-end mode (client/render/lowend.py). client/ui/render_guard.py is the Qt side.
docs/rendering.md explains the levels and the state machine.
"""
