"""Proctor mode (监考模式): offline proctor credentials, the proctor's state machine, its log.

Qt-free; client/ui/proctor_panel.py is the widget on top.
"""
