"""Fixtures for the answer-store tests: real SQLCipher files in tmp_path, real keyrings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import DictKeyring

from client.store.database import AnswerStore


@pytest.fixture
def key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "answers.db"


@pytest.fixture
def store(store_path: Path, key: bytes) -> Iterator[AnswerStore]:
    opened = AnswerStore.open(store_path, key=key)
    yield opened
    opened.close()


@pytest.fixture
def keyring_backend() -> DictKeyring:
    return DictKeyring()
