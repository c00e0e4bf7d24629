"""ReviewServices.integrity queues warnings and blocks, start and end, in the real store."""

from __future__ import annotations

from pathlib import Path

from review_helpers import closed_port_url, store_writer

from client.integrity.episodes import EpisodeChanges
from client.integrity.findings import Finding
from client.integrity.rules import LocalizedName
from client.review.outbox import all_items
from client.review.services import ReviewServices
from client.review.transport import HttpTransport


def finding(severity: str, subject: str) -> Finding:
    return Finding(code="e-01", check="lab_software", kind="lab_software_process",
                   severity=severity,  # type: ignore[arg-type]
                   subject=subject, name=LocalizedName("极域电子教室", "JiYu"),
                   evidence=("process StudentMain.exe pid=2210 exe=C:\\JiYu\\StudentMain.exe",),
                   detail={"exe": "StudentMain.exe"})


def test_warnings_and_blocks_start_and_end_are_queued(tmp_path: Path) -> None:
    with store_writer(tmp_path / "answers.db") as writer:
        services = ReviewServices(run_on_store=writer.call,
                                  transport=HttpTransport(base_url=closed_port_url(),
                                                          token=lambda: "t", timeout_s=1),
                                  client_id="pc-01", server_now_ms=lambda: 1_000)
        services.integrity(EpisodeChanges(started=(finding("warn", "jiyu"),
                                                   finding("block", "todesk"))),
                           phase="pre_exam")
        services.integrity(EpisodeChanges(ended=(finding("warn", "jiyu"),)))
        items = writer.call(all_items).result(10)
    records = [(i.record["phase"], i.record["state"], i.record["finding"]["subject"],
                i.record["finding"]["severity"]) for i in items]
    assert sorted(records) == sorted([("pre_exam", "found", "jiyu", "warn"),
                                      ("pre_exam", "found", "todesk", "block"),
                                      ("exam", "resolved", "jiyu", "warn")])
    assert all(i.record["at_ms"] == 1_000 for i in items)
    assert "StudentMain.exe" in items[0].record["finding"]["evidence"][0]
