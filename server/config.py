"""Server settings: each one declared once with its type, default and meaning.

Precedence (highest first): command-line flags, environment variables
(``EXAM_SERVER_<NAME>``), ``<data dir>/server.toml``, the defaults below.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.forwarded import DEFAULT_PROXIES

DATA_DIR_ENV = "EXAM_SERVER_DATA"
SETTINGS_FILE = "server.toml"


def default_data_dir() -> Path:
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else Path.cwd() / "exam-server-data"


@dataclass(frozen=True)
class ServerSettings:
    data_dir: Path = field(metadata={"help": "keys, database file, stored packages"})
    database_url: str = field(
        default="",
        metadata={"help": "SQLAlchemy URL; empty means sqlite:///<data dir>/server.db"},
    )
    host: str = field(default="0.0.0.0", metadata={"help": "address to listen on"})
    port: int = field(default=8080, metadata={"help": "TCP port to listen on"})
    trust_proxy: bool = field(
        default=False,
        metadata={"help": "take the client IP from X-Forwarded-For (only behind a proxy)"},
    )
    proxy_addresses: str = field(
        default=DEFAULT_PROXIES,
        metadata={"help": "with trust_proxy: the proxies (addresses or networks, "
                  "comma-separated) whose X-Forwarded-For is believed"},
    )
    token_grace_s: int = field(
        default=6 * 3600,
        metadata={"help": "a candidate token stays valid this long after the exam ends"},
    )
    admin_token_ttl_s: int = field(default=12 * 3600, metadata={"help": "admin token lifetime"})
    resume_window_s: int = field(
        default=30 * 60,
        metadata={
            "help": "a candidate may continue on another PC within this long after the last "
            "contact; later, that login finds the paper submitted automatically"
        },
    )
    login_approval_ttl_s: int = field(
        default=15 * 60,
        metadata={"help": "an admin's approval of a second login is usable this long"},
    )
    workers: int = field(
        default=1,
        metadata={"help": "worker processes of `serve` (use PostgreSQL for more than one)"},
    )
    db_pool_size: int = field(
        default=10,
        metadata={"help": "database connections per worker (PostgreSQL); "
                  "workers x (pool + pool/2) must stay under max_connections"},
    )
    login_slots: int = field(
        default=0,
        metadata={"help": "argon2 hashes one worker runs at once, on low-priority threads "
                  "(twice as many logins are let in); 0: CPUs / workers"},
    )
    login_max_wait_s: float = field(
        default=6.0,
        metadata={"help": "a login that would queue longer gets 429 with Retry-After "
                  "(keep it under the client's 10 s timeout)"},
    )
    sync_interval_s: float = field(
        default=3.0,
        metadata={"help": "seconds between a client's answer uploads, written into every exam "
                  "package (the signed header is the client's only source): the steady load "
                  "is candidates / this many uploads per second"},
    )
    import_jobs: bool = field(
        default=True,
        metadata={"help": "merge queued offline answer files in this process "
                  "(server/import_jobs.py); off for app hosts that should only serve"},
    )
    sweep_interval_s: float = field(
        default=5.0,
        metadata={"help": "how often to auto-submit ended attempts and score pending ones"},
    )
    max_pause_s: int = field(
        default=30 * 60,
        metadata={"help": "a pause of one candidate (the console's pause action) left on "
                  "this long ends by itself (audited), so a forgotten pause cannot keep an "
                  "attempt open; the end moves by this much; 0: no limit"},
    )
    pause_alarm_s: int = field(
        default=10 * 60,
        metadata={"help": "the console marks a seat paused this long as needing attention "
                  "(the tile shows how long it has been paused)"},
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'server.db').as_posix()}"

    @property
    def packages_dir(self) -> Path:
        return self.data_dir / "packages"

    @classmethod
    def load(cls, data_dir: Path, **overrides: Any) -> ServerSettings:
        """Read server.toml and the environment, then apply *overrides* (None = not given)."""
        values: dict[str, Any] = {}
        settings_file = data_dir / SETTINGS_FILE
        if settings_file.is_file():
            with settings_file.open("rb") as fh:
                values.update(tomllib.load(fh))
        for f in dataclasses.fields(cls):
            env = os.environ.get(f"EXAM_SERVER_{f.name.upper()}")
            if env is not None and f.name != "data_dir":
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown server settings: {sorted(unknown)}")
        values["data_dir"] = data_dir
        return cls(**_coerce(values))


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    """Turn strings from the environment into each field's declared type."""
    types = {f.name: f.type for f in dataclasses.fields(ServerSettings)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = types[name]
        if kind == "bool" and isinstance(value, str):
            value = value.strip().lower() in {"1", "true", "yes", "on"}
        elif kind == "int":
            value = int(value)
        elif kind == "float":
            value = float(value)
        elif kind == "str":
            value = str(value)
        out[name] = value
    return out
