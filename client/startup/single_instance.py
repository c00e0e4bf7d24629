"""The name two starts of the client use to find each other (Qt-free part).

client/ui/single_instance.py listens on a local socket (a named pipe on Windows) with
this name; a second start connects, asks the first to raise its window and exits. The
name is per user and per data directory so that two test instances with separate data
directories do not see each other, and short enough for every platform's limit.
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

PREFIX = "exam-client-"


def instance_key(data_dir: Path) -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in a stripped environment: the data dir still separates
        user = ""
    digest = hashlib.sha256(f"{user}\0{data_dir.resolve()}".encode()).hexdigest()[:16]
    return PREFIX + digest
