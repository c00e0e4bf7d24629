"""Build an ExamSession (API client, clock, data dir) from the settings."""

from __future__ import annotations

from client.config import Settings
from client.session.exam_session import ExamSession, client_id_for
from client.sync.api import ExamApi, ca_bundle
from client.sync.clock import ServerClock


def create_session(settings: Settings) -> ExamSession:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    clock = ServerClock()
    api = ExamApi(settings.get("server/url"), clock=clock,
                  verify=ca_bundle(settings.get("server/ca_file"), cache_dir=data_dir / "cache"),
                  timeout_s=settings.get("server/timeout_seconds"),
                  client_id=client_id_for(data_dir))
    return ExamSession(api=api, clock=clock, data_dir=data_dir,
                       center_id=settings.get("server/center_id"),
                       configured_signing_key=settings.get("server/signing_public_key"),
                       heartbeat_interval_s=settings.get("sync/heartbeat_seconds"))
