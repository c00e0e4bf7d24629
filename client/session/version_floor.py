"""The exam's client version floor, checked on the PC from the signed package.

The server refuses an old client at login (server/version_floor.py); this check covers a
login made with no network (docs/offline.md): the package already on the PC names the
floor, and an older client must not open the paper either.
"""

from __future__ import annotations

from collections.abc import Mapping

from client import __version__
from client.errors import UserFacingError
from client.i18n import _
from client.paper.exam_rules import version_floor_from_extra


def too_old_error(*, have: str, need: str, where: str) -> UserFacingError:
    return UserFacingError("client_too_old", _(
        "本机客户端版本 {have} 已不能用于本场考试（要求 {need} 或更高版本），"
        "旧版本不再使用。请考点管理员从 {where} 下载最新版本客户端并安装").format(
            have=have, need=need, where=where),
        client_version=have, min_version=need, download_hint=where)


def package_refusal(extra: Mapping[str, object], *,
                    version: str = __version__) -> UserFacingError | None:
    """The refusal when the package's floor is above *version*; None when it may run."""
    floor = version_floor_from_extra(extra)
    if floor is None or floor.accepts(version):
        return None
    return too_old_error(have=version, need=floor.min_version, where=floor.where())
