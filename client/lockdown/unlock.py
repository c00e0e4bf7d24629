"""``exam-client unlock-pc``: support's way to undo a lockdown a crash left behind.

With the restore record it puts back exactly the values the exam changed. Without one
(deleted data folder, a copied PC image) ``--all`` removes every value the exam sets, which
is what a PC that never ran an exam has.
"""

from __future__ import annotations

from pathlib import Path

from client.i18n import _, join_items
from client.lockdown.policy import DESKTOP_POLICIES
from client.lockdown.restore import (
    PolicyStore,
    owner_alive,
    platform_store,
    read_record,
    record_path,
    restore,
)


def unlock_pc(*, data_dir: Path, remove_all: bool, store: PolicyStore | None = None,
              out: list[str]) -> int:
    """Lines for the support person go to *out*; returns the exit code."""
    store = store if store is not None else platform_store()
    if store is None:
        out.append(_("本平台的考试锁定不修改系统设置，无需解除"))
        return 0
    path = record_path(data_dir)
    record = read_record(path)
    if record is not None and owner_alive(record):
        out.append(_("考试客户端仍在运行（进程 {pid}），请先由监考教师结束考试").format(
            pid=record.pid))
        return 1
    if record is not None:
        names = restore(store=store, path=path, record=record)
        out.append(_("已恢复考试前的系统设置：{names}").format(names=join_items(names) or "-"))
        return 0 if not path.exists() else 1
    if not remove_all:
        out.append(_("没有找到锁定记录（{path}），本机设置未被考试修改。"
                     "如仍无法使用任务管理器或关机，请加 --all 清除考试会设置的全部项").format(
            path=path))
        return 0
    for policy in DESKTOP_POLICIES:
        store.delete(policy.key, policy.name)
    out.append(_("已清除考试会设置的全部系统限制：{names}").format(
        names=join_items(p.name for p in DESKTOP_POLICIES)))
    return 0
