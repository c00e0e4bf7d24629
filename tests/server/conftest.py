"""Fixtures for the server tests: a small paper with known keys, and a live server.

The tests use SQLite. With EXAM_SERVER_TEST_POSTGRES_URL set (an SQLAlchemy URL of a
PostgreSQL server whose user may create databases, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) the live-server and merge tests
run against a fresh PostgreSQL database each instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_testkit import Api, write_paper_source
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.testing import LiveServer, live_server


@pytest.fixture
def paper_source(tmp_path: Path) -> Path:
    return write_paper_source(tmp_path / "paper-source")


@pytest.fixture
def database_url() -> Iterator[str]:
    """"" (the SQLite file in the data dir) or a fresh PostgreSQL database."""
    admin_url = os.environ.get("EXAM_SERVER_TEST_POSTGRES_URL")
    if not admin_url:
        yield ""
        return
    name = f"exam_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def server(tmp_path: Path, paper_source: Path, database_url: str) -> Iterator[LiveServer]:
    """A live server whose demo exam (test paper) starts in 10 minutes and lasts an hour."""
    with live_server(tmp_path / "data", demo_paper=paper_source,
                     database_url=database_url or None) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    caller = Api(server)
    yield caller
    caller.session.close()


@pytest.fixture
def token(api: Api) -> str:
    return api.token()
