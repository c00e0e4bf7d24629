"""The whole identity check on replayed sequences built from real photos, real models."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import camera_sequences as cs
import cv2
import numpy as np
import pytest
from attacks import Face, ReactiveSource, cooperative

from client.camera.analyzer import FaceAnalyzer
from client.camera.identity_check import (
    CheckProgress,
    IdentityAttempts,
    IdentityCheckRunner,
    IdentityResult,
    Outcome,
    Stage,
    run_identity_check,
)
from client.camera.liveness import challenge_instruction
from client.camera.settings import CameraSettings
from client.camera.sources import FileSequenceSource, MemorySequenceSource

SETTINGS = CameraSettings()


def check(
    analyzer: FaceAnalyzer,
    frames: list[np.ndarray] | ReactiveSource,
    *,
    base_photo: bytes | None,
    seed: int = 0,
    settings: CameraSettings = SETTINGS,
    progress: list[CheckProgress] | None = None,
) -> IdentityResult:
    """Frames as recorded, or a reactive source that sees the prompts (a live person)."""
    reactive = frames if isinstance(frames, ReactiveSource) else None

    def observe(item: CheckProgress) -> None:
        if progress is not None:
            progress.append(item)
        if reactive is not None:
            reactive.observe(item)

    return run_identity_check(
        source=reactive or MemorySequenceSource(frames, fps=cs.FPS),  # type: ignore[arg-type]
        analyzer=analyzer,
        base_photo=base_photo,
        settings=settings,
        rng=random.Random(seed),
        on_progress=observe,
    )


@pytest.mark.parametrize("seed", [0, 5])
def test_cooperative_candidate_is_verified(
    analyzer: FaceAnalyzer, face: Face, base_photo: bytes, seed: int
) -> None:
    challenges = cs.predicted_challenges(seed)
    progress: list[CheckProgress] = []
    result = check(analyzer, cooperative(face, seed), base_photo=base_photo,
                   seed=seed, progress=progress)
    assert result.outcome is Outcome.VERIFIED, result
    assert result.challenges == challenges
    assert result.score is not None and result.score >= SETTINGS.match_threshold
    assert len(result.scores) == 2           # start and end of the liveness check
    assert len(result.live_embeddings) == 2
    assert result.candidate_time_s < 5.0
    assert all(capture[:2] == b"\xff\xd8" for capture in result.captures)  # JPEG bytes
    stages = [p.stage for p in progress]
    assert stages.index(Stage.QUALITY) < stages.index(Stage.LIVENESS) < stages.index(Stage.MATCHING)
    shown = {p.instruction for p in progress if p.challenge is not None}
    assert {challenge_instruction(c) for c in challenges} <= shown
    record = result.to_record()
    assert record["outcome"] == "verified" and record["score"] == result.score
    # The turn showed parallax, the passive PAD voted live, the record says so.
    assert record["parallax"] and min(record["parallax"]) >= SETTINGS.turn_min_parallax
    assert record["pad_median"] >= SETTINGS.pad_min_live and record["pad_frames"] >= 5
    assert record["source"] == {"kind": "test", "class": "ReactiveSource"}
    assert record["settings"]["match_threshold"] == SETTINGS.match_threshold
    assert "captures" not in repr(result) and b"JFIF" not in repr(result).encode()


def test_frozen_photo_fails(analyzer: FaceAnalyzer, frame: np.ndarray, base_photo: bytes) -> None:
    result = check(analyzer, [frame] * 150, base_photo=base_photo)
    assert result.outcome is Outcome.LIVENESS_FAILED
    assert result.reason == "liveness.frozen"
    assert result.score is None


def test_printed_photo_in_front_of_a_camera_fails(
    analyzer: FaceAnalyzer, frame: np.ndarray, base_photo: bytes
) -> None:
    photo = [cs.sensor_noise(cs.shifted(frame, i % 3, 0), i) for i in range(120)]
    result = check(analyzer, photo, base_photo=base_photo,
                   settings=CameraSettings(challenge_timeout_s=1.5))
    assert result.outcome is Outcome.LIVENESS_FAILED
    assert result.reason == "liveness.challenge_timeout"


def test_replayed_recording_fails(
    analyzer: FaceAnalyzer, face: Face, base_photo: bytes
) -> None:
    recorded_seed, replay_seed = 1, 2
    assert cs.predicted_challenges(recorded_seed) != cs.predicted_challenges(replay_seed)
    earlier = cooperative(face, recorded_seed)
    earlier.keep_frames = True
    assert check(analyzer, earlier, base_photo=base_photo, seed=recorded_seed).passed
    result = check(analyzer, earlier.frames, base_photo=base_photo, seed=replay_seed)
    assert result.outcome is Outcome.LIVENESS_FAILED
    assert result.reason in ("liveness.wrong_action", "liveness.challenge_timeout",
                             "liveness.early_action")


def test_live_person_who_is_not_the_base_photo(analyzer: FaceAnalyzer, face: Face) -> None:
    stranger_base = cs.encode(cv2.cvtColor(
        __import__("skimage.data", fromlist=["camera"]).camera(), cv2.COLOR_GRAY2BGR))
    seed = 4
    result = check(analyzer, cooperative(face, seed), base_photo=stranger_base, seed=seed)
    assert result.outcome is Outcome.NOT_MATCHED
    assert result.score is not None and result.score < SETTINGS.match_threshold
    assert result.reason == "match.below_threshold"
    assert result.captures


def test_missing_base_photo_still_records_live_captures(
    analyzer: FaceAnalyzer, face: Face
) -> None:
    seed = 6
    result = check(analyzer, cooperative(face, seed), base_photo=None, seed=seed)
    assert result.outcome is Outcome.NO_BASE_PHOTO
    assert result.admin_message and "底照" in result.admin_message
    assert len(result.captures) == 2
    attempts = IdentityAttempts(max_failures=3)
    attempts.record(result)
    assert attempts.proctor_available


def test_black_frames_are_diagnosed(analyzer: FaceAnalyzer, base_photo: bytes) -> None:
    black = [np.zeros((480, 640, 3), np.uint8)] * 80
    result = check(analyzer, black, base_photo=base_photo)
    assert result.outcome is Outcome.CAMERA_ERROR
    assert result.reason == "camera.black"
    assert any("杀毒软件" in step for step in result.instructions)
    assert any("遮挡" in step for step in result.instructions)


def test_dark_room_times_out_with_the_light_instruction(
    analyzer: FaceAnalyzer, frame: np.ndarray, base_photo: bytes
) -> None:
    dark = [cs.sensor_noise(cs.darkened(frame, 0.25), i) for i in range(40)]
    quick = CameraSettings(quality_timeout_s=1.0)
    result = check(analyzer, dark, base_photo=base_photo, settings=quick)
    assert result.outcome is Outcome.QUALITY_TIMEOUT
    assert result.reason == "quality.too_dark"
    assert "光线太暗" in result.message


def test_stream_that_stops_is_a_camera_error(
    analyzer: FaceAnalyzer, frame: np.ndarray, base_photo: bytes
) -> None:
    result = check(analyzer, [frame] * 5, base_photo=base_photo)
    assert result.outcome is Outcome.CAMERA_ERROR
    assert result.reason == "camera.no_frames"


def test_failures_open_the_proctor_path() -> None:
    failed = IdentityResult(outcome=Outcome.LIVENESS_FAILED, message="", reason="x", threshold=0.4)
    cancelled = IdentityResult(outcome=Outcome.CANCELLED, message="", reason="x", threshold=0.4)
    attempts = IdentityAttempts(max_failures=3)
    for _ in range(2):
        attempts.record(failed)
        attempts.record(cancelled)
    assert attempts.failures == 2 and not attempts.proctor_available
    attempts.record(failed)
    assert attempts.proctor_available and not attempts.verified


def test_runner_thread_and_cancel(
    analyzer: FaceAnalyzer, frame: np.ndarray, base_photo: bytes
) -> None:
    done: list[IdentityResult] = []
    finished = threading.Event()

    def on_done(result: IdentityResult) -> None:
        done.append(result)
        finished.set()

    runner = IdentityCheckRunner(
        source_factory=lambda: MemorySequenceSource([frame] * 100000),
        base_photo=base_photo,
        on_done=on_done,
        analyzer_factory=lambda: analyzer,
        seed=1,
        settings=CameraSettings(quality_stable_frames=10**6, quality_timeout_s=10**6),
    )
    runner.start()
    assert runner.running
    runner.cancel()
    assert runner.join(10.0)
    assert finished.wait(1.0)
    assert done[0].outcome is Outcome.CANCELLED


def test_runner_reports_a_missing_source_as_a_camera_error(
    analyzer: FaceAnalyzer, tmp_path: Path, base_photo: bytes
) -> None:
    results: list[IdentityResult] = []
    runner = IdentityCheckRunner(
        source_factory=lambda: FileSequenceSource(tmp_path / "nothing.mp4"),
        base_photo=base_photo,
        on_done=results.append,
        analyzer_factory=lambda: analyzer,
    )
    runner.start()
    assert runner.join(10.0)
    assert results[0].outcome is Outcome.CAMERA_ERROR
    assert results[0].reason == "camera.source_missing"


# -- file sources (--camera-source PATH) --------------------------------------------------------
def test_file_sources(tmp_path: Path, frame: np.ndarray) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in range(3):
        cv2.imwrite(str(folder / f"{index:03d}.png"), cs.shifted(frame, index, 0))
    (folder / "notes.txt").write_text("ignored")
    source = FileSequenceSource(folder, fps=10.0)
    source.open()
    frames = [source.read() for _ in range(4)]
    source.close()
    assert [f.t_ms for f in frames[:3] if f is not None] == [0, 100, 200]
    assert frames[3] is None

    still = tmp_path / "photo.jpg"
    still.write_bytes(cs.encode(frame))
    source = FileSequenceSource(still, fps=25.0, still_seconds=0.4)
    source.open()
    count = 0
    while source.read() is not None:
        count += 1
    assert count == 10

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, cs.SIZE)
    for index in range(6):
        writer.write(cs.shifted(frame, index, 0))
    writer.release()
    source = FileSequenceSource(video)
    source.open()
    decoded = []
    while (item := source.read()) is not None:
        decoded.append(item)
    source.close()
    assert len(decoded) == 6 and decoded[0].image.shape == (480, 640, 3)

    from client.camera.errors import CameraError

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CameraError) as error:
        FileSequenceSource(empty).open()
    assert error.value.code == "camera.source_unreadable"
