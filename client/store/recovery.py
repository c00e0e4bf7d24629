"""Open a store, and when it is damaged, recover everything recoverable, loudly.

A damaged store (fails the integrity check, truncated, missing while its backup, its reach
record or its key file says it existed, holding fewer revisions than its reach record says
it reached (client/store/reach.py), or fewer than its own backup) is never replaced by an
empty one in silence:

1. a new store is built under a temporary name from every source, most recent first:
   the damaged file with its WAL (row by row, see salvage.py; the WAL re-chained past a
   damaged frame, walfile.py), the rolling backup with the damaged WAL replayed on top,
   the WAL replayed onto a fresh store when the main file is empty or gone, the rolling
   backup itself, then the server's answers;
2. only when it is complete and durable is a marker (recovery.json) written, the damaged
   files moved into damaged/ (kept, never deleted) and the new store renamed into place;
   a crash before the marker recovers again from scratch, after it the next open
   finishes the swap (roll forward);
3. the caller gets a RecoveryReport to show: what was damaged, what came back from where,
   and, from the reach record, whether every saved revision came back or exactly how many
   did not. It is kept on disk (recovery-report.json) until ``mark_shown`` is called, so a
   process that dies before the UI showed it shows it at the next open.

If the server could not be asked, revisions lost with the damaged file might still be on
the server with higher numbers than the recovered ones; new revisions then jump past a
floor so that they always win over those ("highest revision wins", docs/durability.md).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from client.i18n import _
from client.store import backup, connection
from client.store.backup import DEFAULT_SNAPSHOT_POLICY, SnapshotPolicy
from client.store.connection import DatabaseError
from client.store.database import AnswerStore
from client.store.errors import StoreCorruptError, StoreError, cannot_open_error
from client.store.fsutil import (
    atomic_write_bytes,
    fsync_dir,
    fsync_file,
    move_aside,
    replace_durably,
)
from client.store.keys import mark_store_made, store_was_made
from client.store.model import ServerAnswer
from client.store.paths import StorePaths, backup_path_for, shm_path, wal_path
from client.store.reach import ChainKeys, reach_path_for, read_record
from client.store.redo import (
    REDO_IDS_META,
    REDO_META,
    RedoContents,
    RedoKeys,
    RedoUnreadable,
    read_log,
    redo_path_for,
)
from client.store.salvage import Salvage, from_rows, read_rows, resolve_across
from client.store.walfile import rechain

log = logging.getLogger(__name__)

# Revisions a question can gain during one exam is far below this (essay edits are
# coalesced to one per second: a 3-hour exam is < 11,000).
RECOVERY_REVISION_GAP = 100_000
RECOVERING = ".recovering"  # suffix of the store being rebuilt (incomplete)
REBUILT = ".rebuilt"  # suffix of the rebuilt store, complete and durable
REPORT_NAME = "recovery-report.json"  # the last report, until it has been shown

ServerAnswersSource = Callable[[], Iterable[ServerAnswer]]


@dataclass(frozen=True)
class RecoveryReport:
    """What happened at open. ``recovered`` False: the store was healthy (or new)."""

    recovered: bool = False
    created: bool = False
    reason: str | None = None  # the StoreCorruptError code / "store.behind_backup"
    damaged_files: tuple[Path, ...] = ()
    from_damaged_file: int = 0
    from_backup: int = 0
    from_server: int = 0
    server_checked: bool = False
    server_error: str | None = None
    revisions_total: int = 0
    revision_floor: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # From the reach record: whether the loss could be counted, how many revisions the
    # store had saved that did not come back from any local file, and the last seq
    # before the first of them.
    loss_checked: bool = False
    lost_revisions: int = 0
    lost_after_seq: int | None = None
    report_file: str | None = None  # kept there until mark_shown()

    def checked_with_server(self, *, imported: int) -> RecoveryReport:
        """This report once the server's answers were fetched after all: a login on the
        same PC recovers the store before it has a token (the token is in the store)."""
        return replace(self, from_server=self.from_server + imported, server_checked=True,
                       server_error=None, revisions_total=self.revisions_total + imported)

    def message(self) -> str:
        """A sentence for the candidate and the proctor (empty when nothing happened)."""
        if not self.recovered:
            return ""
        text = _(
            "答案文件损坏或丢失，已恢复 {total} 条作答记录"
            "（损坏文件 {damaged} 条，备份 {backup} 条，服务器 {server} 条）。"
            "损坏的文件保留在 {folder}。"
        ).format(
            folder=self.damaged_files[0].parent if self.damaged_files else "-",
            total=self.revisions_total,
            damaged=self.from_damaged_file,
            backup=self.from_backup,
            server=self.from_server,
        )
        if self.reason == "store.behind_backup":
            text = _(
                "答案文件缺少部分已保存的记录，已从备份补回 {backup} 条。"
            ).format(backup=self.from_backup)
        if self.loss_checked and self.lost_revisions:
            text += _(
                "本机丢失了 {lost} 条已保存的作答记录（第 {after} 条之后）。"
                "已上传到服务器的答案不受影响：请监考老师在服务器上核对该考生的答案，"
                "或用之前导出的离线答卷补回。"
            ).format(lost=self.lost_revisions, after=self.lost_after_seq or 0)
        elif self.loss_checked:
            text += _("已核对：本机保存过的作答记录全部恢复，没有丢失。")
        else:
            text += _(
                "无法核对是否有已保存的作答记录丢失：请监考老师在服务器上核对该考生的答案，"
                "或用之前导出的离线答卷补回。"
            )
        if not self.server_checked:
            text += _("未能连接服务器核对答案，请告知监考老师。")
        if self.revisions_total == 0:
            text += _("没有找到可恢复的作答记录。")
        return text

    def mark_shown(self) -> None:
        """The candidate and proctor have seen it: it need not be shown at the next open."""
        if self.report_file is not None:
            Path(self.report_file).unlink(missing_ok=True)


def open_or_recover(
    paths: StorePaths,
    *,
    key: bytes,
    server_answers: ServerAnswersSource | None = None,
    snapshot_policy: SnapshotPolicy | None = DEFAULT_SNAPSHOT_POLICY,
) -> tuple[AnswerStore, RecoveryReport]:
    """Open the store at *paths*, recovering it if damaged. Raises StoreError only when
    the store can be neither opened nor rebuilt (locked, read-only, disk full)."""
    try:
        paths.directory.mkdir(parents=True, exist_ok=True)
        _finish_interrupted_recovery(paths)
        _discard_leftovers(paths)
        # Any trace of a store means it existed: a missing file is then a loss to report.
        existed = (paths.db.exists() or wal_path(paths.db).exists() or paths.backup.exists()
                   or paths.damaged_dir.exists() or reach_path_for(paths.db).exists()
                   or redo_path_for(paths.db).exists() or store_was_made(paths))
        try:
            store = AnswerStore.open(
                paths.db, key=key, create=not existed, snapshot_policy=snapshot_policy,
                track_reach=True,
            )
        except StoreCorruptError as exc:
            log.error("answer store %s is damaged (%s): recovering", paths.db, exc.detail)
            return _recover(
                paths, key=key, reason=exc.code, server_answers=server_answers,
                snapshot_policy=snapshot_policy,
            )
        try:
            mark_store_made(paths)
        except OSError as exc:
            store.close()
            raise cannot_open_error(exc, paths.db) from exc
    except OSError as exc:  # read-only or full data drive while checking/recovering
        raise cannot_open_error(exc, paths.db) from exc
    if not existed:
        return store, RecoveryReport(created=True)
    try:
        report = _fill_from_backup(store, paths, key=key, server_answers=server_answers)
        if report.recovered:
            report = _keep_until_shown(paths, report)
    except BaseException:
        store.close()
        raise
    if not report.recovered:
        pending = _pending_report(paths)
        if pending is not None:
            return store, pending  # the process that recovered died before showing it
    return store, report


def _keep_until_shown(paths: StorePaths, report: RecoveryReport) -> RecoveryReport:
    report = replace(report, report_file=str(paths.directory / REPORT_NAME))
    atomic_write_bytes(paths.directory / REPORT_NAME, _report_to_json(report, stamp=""))
    return report


def _pending_report(paths: StorePaths) -> RecoveryReport | None:
    path = paths.directory / REPORT_NAME
    try:
        report, _stamp = _report_from_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        # Written atomically, so this is damage; the recovered store itself is fine and
        # its damaged files are still in damaged/ for support.
        log.error("recovery report %s unreadable (%s): dropped", path, exc)
        path.unlink(missing_ok=True)
        return None
    return replace(report, report_file=str(path))


def _discard_leftovers(paths: StorePaths) -> None:
    """Remove half-built files of an interrupted creation/snapshot/recovery."""
    for name in (".new", RECOVERING, REBUILT):
        backup.discard(paths.db.with_name(paths.db.name + name))
        # Left by an earlier version, which snapshotted the store being rebuilt.
        backup.discard(backup_path_for(paths.db.with_name(paths.db.name + name)))
    backup.discard(paths.backup.with_name(paths.backup.name + ".tmp"))
    redo_tmp = redo_path_for(paths.db).with_name(redo_path_for(paths.db).name + ".tmp")
    redo_tmp.unlink(missing_ok=True)
    shutil.rmtree(paths.directory / "salvage", ignore_errors=True)


def _fill_from_backup(
    store: AnswerStore,
    paths: StorePaths,
    *,
    key: bytes,
    server_answers: ServerAnswersSource | None,
) -> RecoveryReport:
    """A healthy file can still have lost a committed WAL tail (a damaged WAL frame ends
    SQLite's replay early, silently). The backup is an earlier copy of the same store,
    so every revision in it must be in the store too; put back the ones that are not."""
    if not paths.backup.exists() or _store_covers_backup(store, paths, key=key):
        return RecoveryReport()
    snapshot = _read_copy(paths, paths.backup, key=key, label="backup")
    have = {(r.question_id, r.revision) for r in store.revisions()}
    missing = [r for r in snapshot.revisions if (r.question_id, r.revision) not in have]
    if not missing:
        return RecoveryReport()
    log.error("store %s lacks %d revisions its backup has", paths.db, len(missing))
    restored = store.restore_revisions(missing)
    store.restore_meta(snapshot.meta)
    store.restore_blobs(snapshot.blobs)
    from_server, checked, error = _ask_server(store, server_answers)
    floor = _protect_numbering(store, server_checked=checked)
    store.snapshot()
    return RecoveryReport(
        recovered=True,
        reason="store.behind_backup",
        from_backup=restored,
        from_server=from_server,
        server_checked=checked,
        server_error=error,
        revisions_total=store.revision_count(),
        revision_floor=floor,
    )


def _store_covers_backup(store: AnswerStore, paths: StorePaths, *, key: bytes) -> bool:
    """Cheap test at every open: the store has at least as many revisions as the backup,
    including the backup's last one. Only when it fails is the backup read in full."""
    try:
        conn = connection.connect_immutable(paths.backup, key=key)
        try:
            count, last_seq = conn.execute(
                "SELECT count(*), coalesce(max(seq), 0) FROM revisions"
            ).fetchone()
            last = conn.execute(
                "SELECT question_id, revision FROM revisions WHERE seq = ?", (last_seq,)
            ).fetchone()
        finally:
            conn.close()
    except (StoreError, DatabaseError) as exc:
        # A damaged backup is no reason to doubt a healthy store: just replace it soon.
        log.warning("backup %s unreadable (%s); a new one will be written", paths.backup, exc)
        store.request_snapshot()
        return True
    return store.revision_count() >= int(count) and (
        last is None or store.has_revision(str(last[0]), int(last[1]))
    )


def _recover(
    paths: StorePaths,
    *,
    key: bytes,
    reason: str,
    server_answers: ServerAnswersSource | None,
    snapshot_policy: SnapshotPolicy | None,
) -> tuple[AnswerStore, RecoveryReport]:
    work = paths.directory / "salvage"
    work.mkdir(exist_ok=True)
    notes: list[str] = []
    record = read_record(reach_path_for(paths.db), ChainKeys(key))
    redo_log, redo_rows = _read_redo(paths, key=key, notes=notes)
    damaged = _read_copy(paths, paths.db, key=key, label="damaged")
    wal_on_backup = Salvage()
    wal_on_new = Salvage()
    if wal_path(paths.db).exists() and paths.backup.exists():
        wal_on_backup = _read_copy(paths, paths.backup, key=key, label="walreplay",
                                   wal_from=paths.db)
    if wal_path(paths.db).exists() and not damaged.readable:
        # The main file is empty, gone or lost its first page. A store's first pages are
        # the same in every new store, so the WAL replays onto a fresh one: everything
        # saved since the store was made, when it was never checkpointed.
        template = work / "template.db"
        AnswerStore.create_file(template, key=key)
        wal_on_new = _read_copy(paths, template, key=key, label="walnew", wal_from=paths.db)
        backup.discard(template)
    snapshot = _read_copy(paths, paths.backup, key=key, label="backup")
    sources = (("damaged", damaged), ("wal", wal_on_backup), ("wal on new", wal_on_new),
               ("redo log", redo_rows), ("backup", snapshot))
    resolve_across([salvage for _name, salvage in sources])
    for name, salvage in sources:
        notes.extend(f"{name}: {error}" for error in salvage.errors)
    loss_checked, lost, lost_after = False, 0, None
    expected: int | None = None
    if record is not None:  # an earlier version's reach record (reach.py)
        expected = record.top.seq if record.settled else record.base.seq
    if redo_log is not None and not redo_log.damaged_tail and reason != "store.redo_stale":
        # Every acknowledged row, by its own seq: the log's start point is durable in the
        # main file, every later acknowledged row has its record (redo.py).
        expected = max(expected or 0, redo_log.last_seq)
    elif redo_log is not None:
        expected = None  # records after the damage may have been lost: cannot count
    if expected is not None:
        found = set().union(*(salvage.seqs for _name, salvage in sources))
        missing = [seq for seq in range(1, expected + 1) if seq not in found]
        loss_checked, lost = True, len(missing)
        lost_after = missing[0] - 1 if missing else None
        if missing:
            log.error("recovery of %s: %d saved revisions not found (seq %d..%d)",
                      paths.db, len(missing), missing[0], missing[-1])

    building = paths.db.with_name(paths.db.name + RECOVERING)
    backup.discard(building)
    store = AnswerStore.open(building, key=key, create=True, snapshot_policy=None)
    try:
        from_damaged = store.restore_revisions(damaged.revisions)
        from_damaged += store.restore_revisions(wal_on_backup.revisions)
        from_damaged += store.restore_revisions(wal_on_new.revisions)
        from_damaged += store.restore_revisions(redo_rows.revisions)
        from_backup = store.restore_revisions(snapshot.revisions)
        for salvage in (damaged, wal_on_backup, wal_on_new, snapshot):
            # The rebuilt store gets a new redo log at its first open: the old one's
            # marker would make that open take the new store's missing log for a loss.
            salvage.meta.pop(REDO_META, None)
            salvage.meta.pop(REDO_IDS_META, None)
            store.restore_meta(salvage.meta)
            store.restore_blobs(salvage.blobs)
        from_server, checked, error = _ask_server(store, server_answers)
        floor = _protect_numbering(store, server_checked=checked)
        total = store.revision_count()
    finally:
        store.close()
    shutil.rmtree(work, ignore_errors=True)
    fsync_file(building)
    replace_durably(building, paths.db.with_name(paths.db.name + REBUILT))

    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() // 1_000_000 % 1000:03d}"
    report = RecoveryReport(
        recovered=True,
        reason=reason,
        damaged_files=tuple(_aside_names(paths, stamp)),
        from_damaged_file=from_damaged,
        from_backup=from_backup,
        from_server=from_server,
        server_checked=checked,
        server_error=error,
        revisions_total=total,
        revision_floor=floor,
        notes=tuple(notes),
        loss_checked=loss_checked,
        lost_revisions=lost,
        lost_after_seq=lost_after,
        report_file=str(paths.directory / REPORT_NAME),
    )
    # Roll-forward point: from here on the swap is finished even if this process dies.
    atomic_write_bytes(_marker(paths), _report_to_json(report, stamp=stamp))
    _complete_swap(paths, report, stamp)
    store = AnswerStore.open(paths.db, key=key, create=False, snapshot_policy=snapshot_policy,
                             track_reach=True)
    store.snapshot()
    log.error("answer store recovered: %s", report)
    return store, report


def _marker(paths: StorePaths) -> Path:
    return paths.directory / "recovery.json"


def _finish_interrupted_recovery(paths: StorePaths) -> None:
    """Complete a recovery whose process died after its rebuilt store was durable; its
    report is then shown by this open (recovery-report.json)."""
    marker = _marker(paths)
    if not marker.exists():
        return
    try:
        report, stamp = _report_from_json(marker.read_bytes())
    except (ValueError, KeyError, TypeError) as exc:
        # Written atomically, so this is damage, not a torn write: recover from scratch.
        log.error("recovery marker %s unreadable (%s): recovering again", marker, exc)
        marker.unlink()
        return
    log.error("finishing an interrupted recovery of %s", paths.db)
    _complete_swap(paths, report, stamp)


def _complete_swap(paths: StorePaths, report: RecoveryReport, stamp: str) -> None:
    """Move the damaged files aside and the rebuilt store into place, keep the report
    until it is shown, then drop the marker; idempotent.

    WAL first: a damaged WAL left beside the new store would be replayed onto it. The
    backup and the reach record describe the old store (its seq numbers): the backup is
    kept as evidence, the record starts over with the rebuilt store.
    """
    rebuilt = paths.db.with_name(paths.db.name + REBUILT)
    if rebuilt.exists():
        for source, target in zip(_damaged_sources(paths), _aside_names(paths, stamp),
                                  strict=False):
            if source.exists():
                move_aside(source, target)
        reach_path_for(paths.db).unlink(missing_ok=True)
        replace_durably(rebuilt, paths.db)
    atomic_write_bytes(paths.directory / REPORT_NAME, _report_to_json(report, stamp=stamp))
    _marker(paths).unlink(missing_ok=True)
    fsync_dir(paths.directory)


def _damaged_sources(paths: StorePaths) -> list[Path]:
    return [shm_path(paths.db), wal_path(paths.db), paths.db, paths.backup,
            redo_path_for(paths.db)]


def _aside_names(paths: StorePaths, stamp: str) -> list[Path]:
    # answers.backup.db -> answers-<stamp>.backup.db
    return [paths.damaged_dir / source.name.replace("answers", f"answers-{stamp}", 1)
            for source in _damaged_sources(paths)]


def _report_to_json(report: RecoveryReport, *, stamp: str) -> bytes:
    doc = dataclasses.asdict(report)
    doc["damaged_files"] = [str(p) for p in report.damaged_files]
    doc["notes"] = list(report.notes)
    return json.dumps({"stamp": stamp, "report": doc}, ensure_ascii=False).encode()


def _report_from_json(data: bytes) -> tuple[RecoveryReport, str]:
    doc = json.loads(data.decode())
    fields = dict(doc["report"])
    fields["damaged_files"] = tuple(Path(p) for p in fields["damaged_files"])
    fields["notes"] = tuple(fields["notes"])
    return RecoveryReport(**fields), str(doc["stamp"])


def _read_copy(
    paths: StorePaths, source: Path, *, key: bytes, label: str, wal_from: Path | None = None
) -> Salvage:
    """Salvage rows from a working copy of *source* (plus the WAL of *wal_from*)."""
    if not source.exists():
        return Salvage(errors=[f"{source.name} does not exist"])
    work = paths.directory / "salvage"
    work.mkdir(exist_ok=True)
    copy = work / f"{label}.db"
    backup.discard(copy)
    shutil.copyfile(source, copy)
    wal_source = wal_path(wal_from if wal_from is not None else source)
    if wal_source.exists():
        shutil.copyfile(wal_source, wal_path(copy))
        rechain(wal_path(copy))  # replay past a damaged frame (walfile.py)
    try:
        return read_rows(copy, key=key)
    finally:
        backup.discard(copy)


def _read_redo(paths: StorePaths, *, key: bytes,
               notes: list[str]) -> tuple[RedoContents | None, Salvage]:
    """The redo log's rows as one more source (read in place: nothing writes it here)."""
    try:
        contents = read_log(redo_path_for(paths.db), RedoKeys(key))
    except RedoUnreadable as exc:
        notes.append(f"redo log refused: {exc}")
        return None, Salvage(errors=[str(exc)])
    if contents is None:
        return None, Salvage(errors=["no redo log"])
    if contents.damaged_pages or contents.damaged_tail:
        notes.append(f"redo log: {contents.damaged_pages} damaged pages"
                     + (", damaged after its last readable record"
                        if contents.damaged_tail else ""))
    rows = [(row.question_id, row.revision, row.stored, row.wall_time_ms, row.mono_time_ns,
             row.server_time_ms, int(row.synced), row.patch_of, row.seq)
            for row in contents.rows()]
    return contents, from_rows(rows)


def _ask_server(
    store: AnswerStore, server_answers: ServerAnswersSource | None
) -> tuple[int, bool, str | None]:
    if server_answers is None:
        return 0, False, "no server source"
    try:
        answers = list(server_answers())
    except Exception as exc:  # offline, server down, HTTP error: recovery goes on without
        log.warning("could not fetch answers from the server during recovery: %s", exc)
        return 0, False, str(exc)
    return len(store.import_server_answers(answers)), True, None


def _protect_numbering(store: AnswerStore, *, server_checked: bool) -> int | None:
    if server_checked:
        return None
    floor = store.max_revision() + RECOVERY_REVISION_GAP
    store.raise_revision_floor(floor)
    return floor
