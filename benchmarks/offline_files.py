"""Offline answer files for a 100-candidate exam center, 200 items each.

    python benchmarks/offline_files.py [--candidates 100] [--items 200] [--revisions 3]

Export: one PC's real SQLCipher answer store (items x revisions saved through the store
writer) exported by the same OfflineExporter the proctor panel uses, to a temp folder.
Baseline in the same run: the same revisions as plain JSON written with the same atomic
write + read-back (no signing, no encryption): the ratio is what the file format costs.

Import: every candidate's file through ``import_offline_file`` (structure, key lookup,
signature, name, identity, HPKE decryption, limits, set-based merge) into a fresh server
database, on SQLite and on PostgreSQL (a throwaway cluster from scripts/postgres_temp.sh,
or --postgres-url); then the same files again (replay, all duplicates). Baseline in the
same run: ``merge_revisions`` alone with the same revisions into a second fresh database,
so the ratio is what verification and decryption add on top of the merge itself. The
exam's paper has exactly the items answered (answers to ids not in the paper are refused).
Target: >= 10,000 answers merged per second on both engines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from client.export.atomic_write import atomic_write_verified
from client.export.naming import offline_file_name
from client.export.offline_file import (
    FileIdentity,
    OfflinePayload,
    SubmissionInfo,
    build_offline_file,
    raw_public_bytes,
)
from client.export.session_export import OfflineExporter
from client.store import AnswerStore, StoreWriter
from client.store.model import Revision
from server.clock import SystemClock
from server.config import ServerSettings
from server.context import ServerContext
from server.db import Database
from server.demo import install_demo
from server.keys import ensure_keys
from server.merge import IncomingRevision, merge_revisions
from server.offline_import import (
    ImportScope,
    ImportStatus,
    ensure_tables,
    import_offline_file,
    register_client_key,
)

EXPORT_REPEATS = 10


def answer(item: int, revision: int) -> object:
    kind = item % 4
    if kind == 0:
        return "ABCD"[(item + revision) % 4]
    if kind == 1:
        return ["A", "C"] if revision % 2 else ["B"]
    if kind == 2:
        return ["北京", str(revision)]
    return f"第{revision}稿：" + "网络中断时答案保存在本机。" * 20


def build_store(path: Path, *, items: int, revisions: int) -> StoreWriter:
    key = bytes(range(32))
    writer = StoreWriter(lambda: AnswerStore.open(path, key=key, snapshot_policy=None))
    writer.ready().result()
    now = time.time_ns() // 1_000_000

    def fill(store: AnswerStore) -> None:
        for r in range(1, revisions + 1):
            for i in range(items):
                store.save(question_id=f"q{i:03d}", value=answer(i, r),  # type: ignore[arg-type]
                           server_time_ms=now)

    writer.call(fill).result()
    return writer


def bench_export(tmp: Path, *, items: int, revisions: int) -> None:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    writer = build_store(tmp / "answers.db", items=items, revisions=revisions)
    box = X25519PrivateKey.generate().public_key()
    identity = FileIdentity("bench-exam", "1", "2024000001", "pc-01", "00" * 32)
    exporter = OfflineExporter(writer=writer, identity=identity, server_box_key=box,
                               server_time_ms=lambda: None, exam_end_ms=2**62,
                               wall_time_ms=lambda: time.time_ns() // 1_000_000)
    out = tmp / "usb"
    out.mkdir()
    timings, baseline = [], []
    size = 0
    for _ in range(EXPORT_REPEATS):
        start = time.perf_counter()
        result = exporter.export(out)
        timings.append(time.perf_counter() - start)
        size = result.size
        result.path.unlink()
        start = time.perf_counter()
        revs = writer.call(lambda store: store.revisions()).result()
        plain = json.dumps([vars(r) for r in revs], ensure_ascii=False).encode()
        atomic_write_verified(out / "plain.json", plain)
        baseline.append(time.perf_counter() - start)
    writer.close()
    export_ms, base_ms = statistics.median(timings) * 1000, statistics.median(baseline) * 1000
    print(f"export, one PC ({items} items x {revisions} revisions = {items * revisions} "
          f"revisions, SQLCipher store): median {export_ms:.1f} ms, file {size / 1024:.0f} KiB")
    print(f"  baseline (same revisions as plain JSON, same atomic write): {base_ms:.1f} ms; "
          f"ratio {export_ms / base_ms:.2f}x")


ROOT = Path(__file__).resolve().parent.parent


def question_id(item: int) -> str:
    return f"q{item:03d}"


def write_paper(directory: Path, items: int) -> Path:
    """A paper whose items are the ones answer() answers (by item % 4)."""
    def zh(text_: str) -> dict[str, str]:
        return {"zh_CN": text_, "en": text_}

    def item(n: int) -> dict[str, object]:
        kind = n % 4
        base: dict[str, object] = {"id": question_id(n), "stem": zh(f"第{n}题"), "score": 1}
        options = [{"id": o, "text": zh(o)} for o in "ABCD"]
        if kind == 0:
            return {**base, "type": "single", "options": options, "key": "A"}
        if kind == 1:
            return {**base, "type": "multiple", "options": options, "key": ["A", "C"]}
        if kind == 2:
            return {**base, "type": "fill_blank", "blanks": 2, "key": [["北京"], ["1"]]}
        return {**base, "type": "essay", "max_length": 2000}

    paper = {"format_version": 1, "paper_id": "bench-offline", "title": zh("离线导入基准"),
             "duration_minutes": 120,
             "sections": [{"id": "s1", "title": zh("全部"), "items": [item(n) for n in
                                                                    range(items)]}]}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "paper.json").write_text(json.dumps(paper, ensure_ascii=False), "utf-8")
    return directory


def fresh_database(postgres_admin_url: str | None) -> str:
    if not postgres_admin_url:
        return ""
    name = f"exam_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)


def make_server(data_dir: Path, *, items: int,
                postgres_admin_url: str | None) -> tuple[ServerContext, str]:
    settings = ServerSettings.load(data_dir, database_url=fresh_database(postgres_admin_url))
    keys = ensure_keys(data_dir)
    db = Database(settings.effective_database_url)
    db.init_schema()
    ensure_tables(db)
    clock = SystemClock()
    info = install_demo(settings=settings, db=db, keys=keys, clock=clock, start_in_s=-60,
                        duration_s=7200, paper_source=write_paper(data_dir / "paper", items))
    return ServerContext.build(settings=settings, db=db, keys=keys, clock=clock), info.exam_id


def add_candidates(ctx: ServerContext, exam_id: str, count: int) -> list[int]:
    from server.candidates import upsert_candidate

    attempts = []
    now = ctx.clock.now_ms()
    for n in range(count):
        candidate_id, _created = upsert_candidate(
            ctx.db, student_no=f"2099{n:06d}", id_number=f"11010119900101{n:04d}",
            name=f"考生{n}", center_id="demo-center", hasher=lambda password: "x")
        ctx.db.register(exam_id=exam_id, candidate_id=candidate_id)
        attempts.append(ctx.db.open_attempt(exam_id=exam_id, candidate_id=candidate_id,
                                            now_ms=now).id)
    return attempts


def revisions_for(items: int, revisions: int, now: int) -> list[Revision]:
    return [Revision(question_id(i), r, answer(i, r), now, r, now, False)  # type: ignore[arg-type]
            for i in range(items) for r in range(1, revisions + 1)]


def bench_import(tmp: Path, *, candidates: int, items: int, revisions: int,
                 engine: str, postgres_admin_url: str | None) -> None:
    admin_url = postgres_admin_url if engine == "postgresql" else None
    ctx, exam_id = make_server(tmp / "server", items=items, postgres_admin_url=admin_url)
    attempts = add_candidates(ctx, exam_id, candidates)
    now = ctx.clock.now_ms()
    revs = revisions_for(items, revisions, now)
    files: list[tuple[str, bytes]] = []
    build_start = time.perf_counter()
    for n, attempt_id in enumerate(attempts):
        attempt = ctx.db.get_attempt(attempt_id)
        assert attempt is not None
        key = Ed25519PrivateKey.generate()
        register_client_key(ctx.db, attempt_id=attempt_id,
                            public_key=raw_public_bytes(key.public_key()),
                            client_id=f"pc-{n}", now_ms=now)
        identity = FileIdentity(exam_id, str(attempt.candidate_id), f"2099{n:06d}", f"pc-{n}",
                                "00" * 32)
        name = offline_file_name(exam_id=exam_id, candidate_no=identity.candidate_no,
                                 at_ms=now)
        payload = OfflinePayload(revisions=tuple(revs), submission=SubmissionInfo("answering"),
                                 proctor_log=(), client_info={})
        files.append((name, build_offline_file(
            identity=identity, payload=payload, file_name=name, created_wall_ms=now,
            created_server_ms=now, export_seq=1, session_key=key,
            server_box_key=ctx.keys.box.public_key())))
    build_s = time.perf_counter() - build_start
    total_revisions = candidates * len(revs)
    size = sum(len(data) for _name, data in files)
    print(f"[{engine}] center: {candidates} candidates x {items} items x {revisions} revisions = "
          f"{total_revisions} revisions in {size / 1024:.0f} KiB of files "
          f"(built in {build_s:.1f} s)")

    scope = ImportScope()
    start = time.perf_counter()
    reports = [import_offline_file(ctx, data=data, file_name=name, scope=scope)
               for name, data in files]
    first_s = time.perf_counter() - start
    assert all(r.status is ImportStatus.MERGED for r in reports), reports[0]
    start = time.perf_counter()
    replays = [import_offline_file(ctx, data=data, file_name=name, scope=scope)
               for name, data in files]
    replay_s = time.perf_counter() - start
    assert all(r.status is ImportStatus.UNCHANGED for r in replays)
    ctx.db.close()

    base_ctx, base_exam = make_server(tmp / "baseline", items=items,
                                      postgres_admin_url=admin_url)
    base_attempts = add_candidates(base_ctx, base_exam, candidates)
    incoming = [IncomingRevision(r.question_id, r.revision, r.value, r.server_time_ms)
                for r in revs]
    start = time.perf_counter()
    for attempt_id in base_attempts:
        merge_revisions(base_ctx.db, attempt_id=attempt_id, revisions=incoming,
                        source="offline_file", exam_end_ms=2**62, received_at_ms=now)
    base_s = time.perf_counter() - start
    base_ctx.db.close()

    print(f"[{engine}] import, first time: {first_s:.2f} s, {total_revisions / first_s:,.0f} "
          f"answers merged/s, {candidates / first_s:.1f} files/s (target >= 10,000 answers/s)")
    print(f"[{engine}] import, replay (all duplicates): {replay_s:.2f} s, "
          f"{total_revisions / replay_s:,.0f} answers checked/s")
    print(f"  baseline (merge_revisions alone, same revisions): {base_s:.2f} s, "
          f"{total_revisions / base_s:,.0f} answers/s; import/baseline time ratio "
          f"{first_s / base_s:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--revisions", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("EXAM_SERVER_TEST_POSTGRES_URL"),
                        help="an admin URL of a PostgreSQL server (default: a throwaway one)")
    args = parser.parse_args()
    engines = args.engines.split(",")
    cluster_dir, admin_url = None, args.postgres_url
    if "postgresql" in engines and not admin_url:
        out = subprocess.run(["bash", str(ROOT / "scripts" / "postgres_temp.sh"), "start"],
                             check=True, capture_output=True, text=True).stdout
        found = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
        cluster_dir, admin_url = found["EXAM_PG_DIR"], found["EXAM_SERVER_TEST_POSTGRES_URL"]
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            (tmp / "export").mkdir()
            bench_export(tmp / "export", items=args.items, revisions=args.revisions)
            for engine in engines:
                (tmp / engine).mkdir()
                bench_import(tmp / engine, candidates=args.candidates, items=args.items,
                             revisions=args.revisions, engine=engine,
                             postgres_admin_url=admin_url)
    finally:
        if cluster_dir:
            subprocess.run(["bash", str(ROOT / "scripts" / "postgres_temp.sh"), "stop",
                            cluster_dir], check=False)


if __name__ == "__main__":
    main()
