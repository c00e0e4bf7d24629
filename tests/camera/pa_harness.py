"""Runs the presentation-attack set through the real identity check (tests, benchmark).

A *candidate* is one scenario tried up to ``max_attempts`` times (the retries the client
allows): an attack is accepted for the candidate if any attempt passes; a genuine
candidate is rejected if every attempt fails.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from attacks import ATTACK_KINDS, Face, ReactiveSource, Scenario, genuine_policy, scenarios
from camera_sequences import astronaut_frame, astronaut_portrait, encode, mirrored

from client.camera.analyzer import FaceAnalyzer
from client.camera.identity_check import IdentityResult, Outcome, run_identity_check
from client.camera.settings import DEFAULT_SETTINGS, CameraSettings


def build_faces(image_analyzer: FaceAnalyzer) -> list[Face]:
    """The astronaut and her mirror image (two appearances of one real identity)."""
    faces = []
    for frame in (astronaut_frame(), mirrored(astronaut_frame())):
        points = image_analyzer.landmarks(frame, t_ms=0)
        assert points is not None
        faces.append(Face(np.ascontiguousarray(frame), points))
    return faces


def base_photo() -> bytes:
    return encode(astronaut_portrait())


def attempt(analyzer: FaceAnalyzer, source: ReactiveSource, *, seed: int,
            settings: CameraSettings = DEFAULT_SETTINGS) -> IdentityResult:
    return run_identity_check(source=source, analyzer=analyzer, base_photo=base_photo(),
                              settings=settings, rng=random.Random(seed),
                              on_progress=source.observe)


def recorder(analyzer: FaceAnalyzer, settings: CameraSettings = DEFAULT_SETTINGS):  # type: ignore[no-untyped-def]
    """Earlier genuine checks of a face, as a camera recording would have them."""
    def record(face: Face, rng: random.Random) -> list[np.ndarray]:
        source = ReactiveSource(genuine_policy(face, rng))
        source.keep_frames = True
        attempt(analyzer, source, seed=rng.randint(0, 10**9), settings=settings)
        return source.frames
    return record


@dataclass
class KindResult:
    kind: str
    attempts: int = 0
    accepted_attempts: int = 0
    candidates: int = 0
    accepted_candidates: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    # geometry.head_vs_plane of the completed turns of accepted / refused attempts
    accepted_turns: list[float] = field(default_factory=list)
    refused_turns: list[float] = field(default_factory=list)


def run_candidate(analyzer: FaceAnalyzer, scenario: Scenario, *, max_attempts: int,
                  seed: int, settings: CameraSettings = DEFAULT_SETTINGS,
                  ) -> list[IdentityResult]:
    results = []
    for number in range(max_attempts):
        result = attempt(analyzer, scenario.make_source(number),
                         seed=seed * 1000 + scenario.candidate * 10 + number, settings=settings)
        results.append(result)
        if result.outcome is Outcome.VERIFIED:
            break
    return results


def evaluate(analyzer: FaceAnalyzer, image_analyzer: FaceAnalyzer, *, kinds: Iterable[str],
             candidates: int, max_attempts: int, seed: int,
             settings: CameraSettings = DEFAULT_SETTINGS) -> dict[str, KindResult]:
    faces = build_faces(image_analyzer)
    record = recorder(analyzer, settings)
    out: dict[str, KindResult] = {}
    for kind in kinds:
        summary = KindResult(kind)
        for scenario in scenarios(kind, faces, candidates=candidates, seed=seed,
                                  recordings=record):
            results = run_candidate(analyzer, scenario, max_attempts=max_attempts, seed=seed,
                                    settings=settings)
            summary.candidates += 1
            summary.attempts += len(results)
            passed = [r for r in results if r.outcome is Outcome.VERIFIED]
            summary.accepted_attempts += len(passed)
            summary.accepted_candidates += 1 if passed else 0
            summary.reasons.update(r.reason for r in results)
            for r in results:
                turns = (summary.accepted_turns if r.outcome is Outcome.VERIFIED
                         else summary.refused_turns)
                turns.extend(r.head_vs_plane)
        out[kind] = summary
    return out


__all__ = ["ATTACK_KINDS", "KindResult", "build_faces", "evaluate", "run_candidate"]
