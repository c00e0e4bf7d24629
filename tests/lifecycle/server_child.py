"""The server as its own process, for the stateful lifecycle test's real server kill
(tests/lifecycle/test_lifecycle_stateful.py, rule ``kill_server``).

It builds the app as ``server.testing.live_server`` does (same settings, same uvicorn
options) on an existing data directory, with a :class:`FileOffsetClock` whose offset the
test writes, and serves on 127.0.0.1:<port> until it is SIGKILLed: no shutdown, no
flush, what a power cut or a killed server process leaves behind. Test-only.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

import uvicorn
from file_clock import FileOffsetClock

from server.app import create_app
from server.config import ServerSettings
from server.context import ServerContext
from server.db import Database
from server.keys import ensure_keys
from server.testing import uvicorn_config

# The same as live_server's defaults: the clients' packages carry the sync interval.
SETTINGS = {"sweep_interval_s": 0.2, "sync_interval_s": 0.3}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--clock-file", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = ServerSettings.load(args.data_dir, host="127.0.0.1", port=0, **SETTINGS)
    db = Database(config.effective_database_url)
    db.init_schema()
    ctx = ServerContext.build(settings=config, db=db, keys=ensure_keys(args.data_dir),
                              clock=FileOffsetClock(args.clock_file))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # The killed process's port, at once (its connections may linger in TIME_WAIT).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    server = uvicorn.Server(uvicorn_config(create_app(ctx), host="127.0.0.1", port=args.port))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
