"""Offline answer files as import jobs (issue 18): stored first, merged by job loops, one
transaction per file; two loops never take the same file, and a file whose worker died
or whose transaction broke is retried, never half-merged. On SQLite and, with
EXAM_SERVER_TEST_POSTGRES_URL, on PostgreSQL (``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "offline_import"))
from offline_helpers import rev, sit

from server import offline_import
from server.import_jobs import (
    DONE,
    FAILED,
    MAX_TRIES,
    QUEUED,
    IncomingFile,
    batch_progress,
    claim_next,
    finish,
    import_jobs,
    queue_totals,
    run_until_idle,
    store_batch,
)
from server.offline_import import MAX_FILE_BYTES, ImportScope
from server.testing import LiveServer, live_server

SCOPE = ImportScope(imported_by="web:test")


@pytest.fixture
def srv(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    # The demo paper (q1..q5), running now; no job loop of its own: the tests are the
    # workers (claim_next, run_until_idle).
    with live_server(tmp_path / "data", start_in_s=-60, duration_s=3600, import_jobs=False,
                     database_url=database_url or None) as live:
        yield live


def _queue(srv: LiveServer, files: list[tuple[str, bytes]]) -> str:
    return store_batch(srv.context, [IncomingFile(name, io.BytesIO(data)) for name, data in files],
                       scope=SCOPE)


def _states(srv: LiveServer) -> dict[int, tuple[str, int]]:
    with srv.db.read() as conn:
        return {r.id: (r.state, r.tries) for r in conn.execute(select(import_jobs))}


def test_two_workers_never_take_the_same_file(srv: LiveServer) -> None:
    _queue(srv, [(f"junk-{n}.examans", b"not an offline file %d" % n) for n in range(40)])
    taken: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def work(name: str) -> None:
        start.wait()
        while (job := claim_next(srv.db, worker=name, now_ms=srv.clock.now_ms())) is not None:
            taken[name].append(job.id)
            report = offline_import.import_offline_file(
                srv.context, data=b"junk", file_name=job.file_name, scope=job.scope)
            finish(srv.db, job, report=report, now_ms=srv.clock.now_ms())

    threads = [threading.Thread(target=work, args=(n,)) for n in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    both = set(taken["a"]) & set(taken["b"])
    assert not both, f"files taken twice: {sorted(both)}"
    states = _states(srv)
    # Every file finished, each claimed exactly once.
    assert {state for state, _tries in states.values()} == {FAILED}
    assert {tries for _state, tries in states.values()} == {1}
    assert queue_totals(srv.db)[FAILED] == 40


def test_a_worker_that_died_mid_file_leaves_it_retried_not_half_merged(
        srv: LiveServer) -> None:
    sitting = sit(srv, 0)
    now = srv.clock.now_ms()
    name, data = sitting.build_file([rev("q1", 1, "B", now), rev("q2", 1, "C", now)])
    batch = _queue(srv, [(name, data)])
    # The file's transaction breaks at its last statement (as when the process dies
    # inside it): nothing of it may stay.
    with srv.db.write() as conn:
        if srv.db.is_postgres:
            conn.execute(text("CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS "
                              "$$ BEGIN RAISE EXCEPTION 'worker died'; END $$"))
            conn.execute(text("CREATE TRIGGER crash BEFORE INSERT ON offline_imports "
                              "FOR EACH ROW EXECUTE FUNCTION crash()"))
        else:
            conn.execute(text("CREATE TRIGGER crash BEFORE INSERT ON offline_imports "
                              "BEGIN SELECT RAISE(ABORT, 'worker died'); END"))
    job = claim_next(srv.db, worker="doomed", now_ms=srv.clock.now_ms())
    assert job is not None and job.tries == 1
    report = offline_import.import_offline_file(
        srv.context, data=data, file_name=job.file_name, scope=job.scope)
    assert report.code == "offline.internal_error"
    attempt = srv.db.find_attempt(exam_id=sitting.exam_id,
                                  candidate_id=int(sitting.candidate_id))
    assert attempt is not None
    assert srv.db.current_answers(attempt.id) == {}  # not half-merged
    assert finish(srv.db, job, report=report, now_ms=srv.clock.now_ms()) is False
    assert _states(srv)[job.id] == (QUEUED, 1)  # back in the queue, file kept

    with srv.db.write() as conn:
        conn.execute(text("DROP TRIGGER crash" + (" ON offline_imports"
                                                 if srv.db.is_postgres else "")))
    # A worker that claimed it and then vanished (no finish): after the stale time any
    # loop takes it again.
    dead = claim_next(srv.db, worker="vanished", now_ms=srv.clock.now_ms())
    assert dead is not None and dead.id == job.id and dead.tries == 2
    assert claim_next(srv.db, worker="other", now_ms=srv.clock.now_ms()) is None  # still claimed
    retried = claim_next(srv.db, worker="other", now_ms=srv.clock.now_ms(), stale_ms=-1)
    assert retried is not None and retried.id == job.id and retried.tries == 3
    report = offline_import.import_offline_file(
        srv.context, data=data, file_name=retried.file_name, scope=retried.scope)
    assert finish(srv.db, retried, report=report, now_ms=srv.clock.now_ms()) is True
    assert srv.db.current_answers(attempt.id) == {"q1": "B", "q2": "C"}
    progress = batch_progress(srv.db, batch)
    assert progress is not None and progress.finished
    assert progress.jobs[0].state == DONE
    assert progress.jobs[0].report is not None
    assert progress.jobs[0].report.code == "offline.merged"
    assert progress.answers(offline_import.Outcome.APPLIED) == 2


def test_a_file_that_killed_its_worker_every_time_fails_and_the_queue_moves_on(
        srv: LiveServer) -> None:
    _queue(srv, [("first.examans", b"junk"), ("second.examans", b"junk")])
    now = srv.clock.now_ms()
    for attempt in range(1, MAX_TRIES + 1):  # claimed, then the worker vanished
        job = claim_next(srv.db, worker=f"w{attempt}", now_ms=now, stale_ms=-1)
        assert job is not None and job.file_name == "first.examans" and job.tries == attempt
    following = claim_next(srv.db, worker="next", now_ms=now, stale_ms=-1)
    assert following is not None and following.file_name == "second.examans"
    states = sorted(_states(srv).items())
    assert [state for _id, (state, _tries) in states] == [FAILED, "processing"]


def test_files_are_stored_then_merged_and_an_oversized_one_is_refused_while_copying(
        srv: LiveServer) -> None:
    sitting = sit(srv, 0)
    now = srv.clock.now_ms()
    name, data = sitting.build_file([rev("q1", 1, "A", now)])

    class Endless(io.RawIOBase):
        """A body that never ends: the copy must stop at the limit, not read it all."""

        read_bytes = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            buffer[:] = b"x" * len(buffer)
            self.read_bytes += len(buffer)
            return len(buffer)

    endless = Endless()
    batch = store_batch(srv.context, [IncomingFile(name, io.BytesIO(data)),
                                      IncomingFile("huge.examans", io.BufferedReader(endless))],
                        scope=SCOPE)
    assert endless.read_bytes <= MAX_FILE_BYTES + 2 * 1024 * 1024
    progress = batch_progress(srv.db, batch)
    assert progress is not None
    assert [j.state for j in progress.jobs][1] == FAILED
    assert progress.jobs[1].report is not None
    assert progress.jobs[1].report.code == "offline.too_large"
    run_until_idle(srv.context, worker="test")
    progress = batch_progress(srv.db, batch)
    assert progress is not None and progress.finished
    assert [j.state for j in progress.jobs] == [DONE, FAILED]
    attempt = srv.db.find_attempt(exam_id=sitting.exam_id,
                                  candidate_id=int(sitting.candidate_id))
    assert attempt is not None and srv.db.current_answers(attempt.id) == {"q1": "A"}
    # The stored copy is gone once merged.
    assert not any((srv.data_dir / "imports").rglob("*.examans"))
