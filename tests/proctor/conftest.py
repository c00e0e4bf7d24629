from __future__ import annotations

import os

import pytest
from proctor_samples import FAST_HASHER, ListSink

from client.proctor.proctor_log import ProctorLog
from client.proctor.verifiers import ProctorVerifierSet, create_verifier

# The panel test needs PySide6; the core-without-Qt run (EXAM_BLOCK_QT=1) skips the file.
collect_ignore = ["test_proctor_panel.py"] if os.environ.get("EXAM_BLOCK_QT") == "1" else []


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
def proctor_log(sink: ListSink) -> ProctorLog:
    return ProctorLog(sink=sink, server_time_ms=lambda: 5_000, wall_time_ms=lambda: 4_000)


@pytest.fixture
def verifiers() -> ProctorVerifierSet:
    return ProctorVerifierSet([
        create_verifier(proctor_id="p1", name="王老师", password="Kq7-m2Lx9", hasher=FAST_HASHER),
        create_verifier(proctor_id="p2", name="Li Ming", password="second-pw", hasher=FAST_HASHER),
    ], hasher=FAST_HASHER)
