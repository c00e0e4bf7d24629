"""Exam-time lockdown: what is blocked, changed and restored, decided without Qt.

policy.py decides (keys per profile, which desktop policies are set); restore.py keeps the
crash-restore record; focus.py counts the candidate's focus losses. client/lockdown/windows/
holds the small ctypes/winreg adapters; client/ui/lockdown_guard.py applies it to the window.
"""
