"""Preloading a room: the package on every PC before any candidate logs in.

An exam that must be able to start with no network needs its package on each PC in
advance (docs/offline.md). A center admin does it the day before, on each PC, with their
own credentials (``POST /admin/login``); candidates then log in offline against the
package's verifiers if the network is down at the start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from client.errors import UserFacingError
from client.paper.package import PackageHeader, verify_package
from client.session.offline_login import package_path_for
from client.session.server_keys import ServerKeys, pin
from client.sync.api import ExamApi

log = logging.getLogger(__name__)


def preload_exam(*, api: ExamApi, data_dir: Path, exam_id: str, admin_username: str,
                 admin_password: str, configured_signing_key: str = "",
                 progress: Callable[[int, int], None] | None = None) -> PackageHeader:
    """*Blocking.* Download and verify the package of *exam_id* into the data directory."""
    api.admin_login(username=admin_username, password=admin_password)
    try:
        offered = api.server_keys()
        keys = pin(data_dir, ServerKeys(signing_public_key=offered["signing_public_key"],
                                        box_public_key=offered["box_public_key"]),
                   configured_signing_key=configured_signing_key)
        target = package_path_for(data_dir, exam_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        api.download_package(exam_id, target, progress=progress)
        try:
            header = verify_package(target.read_bytes(), trusted_key=keys.signing_key,
                                    expected_exam_id=exam_id)
        except UserFacingError:
            target.replace(target.with_suffix(".rejected"))
            target.with_name(target.name + ".etag").unlink(missing_ok=True)
            raise
    finally:
        api.token = None  # the admin token must not serve a candidate's session
    log.info("preloaded package of %s into %s", exam_id, target)
    return header
