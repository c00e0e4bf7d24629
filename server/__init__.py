"""Reference exam server (FastAPI): logins, signed paper packages, answer sync, scoring.

Qt-free. It imports the client core only where a format is shared (paper package,
scoring of answer values, offline answer file), never ``client.ui``.
"""
