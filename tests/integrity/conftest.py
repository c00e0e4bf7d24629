"""Shared test data for the integrity tests: real rules bytes and real Ed25519 keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.resources import resource_path


@pytest.fixture
def builtin_document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        Path(resource_path("integrity", "rules.json")).read_text(encoding="utf-8"))
    return doc


@pytest.fixture
def server_key() -> Ed25519PrivateKey:
    """Stands in for the exam server's signing key (generated per test, never stored)."""
    return Ed25519PrivateKey.generate()
