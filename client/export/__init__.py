"""Offline answer file (导出离线答卷): format, naming, atomic writing, export locations.

Qt-free. The server imports ``client.export.offline_file`` to read the same format.
"""
