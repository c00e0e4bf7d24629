"""Passive presentation-attack detection (client/camera/pad.py, pad_vote.py): the reject
path, with the real MiniFASNet models on frames built from the repo's real photo.

The attacker is tests/camera/attacks.py's ``reactive_screen``: a phone held in the room
showing a puppet of the candidate that follows every prompt, so the liveness rules see a
3D head doing what was asked and only PAD can refuse it. docs/camera.md "Passive
presentation-attack detection" has the calibration these tests pin down.
"""

from __future__ import annotations

import pytest
from attacks import Cue, Face, cooperative, reactive_screen
from pa_harness import attempt

from client.camera.analyzer import FaceAnalyzer
from client.camera.identity_check import Outcome
from client.camera.pad_vote import PadVote
from client.camera.settings import DEFAULT_SETTINGS

MIN_LIVE = DEFAULT_SETTINGS.pad_min_live


def real_scores(analyzer: FaceAnalyzer, source_frames: list) -> list[float]:
    scores = []
    for image in source_frames:
        faces = analyzer.detect(image)
        assert len(faces) == 1
        score = analyzer.spoof_score(image, faces[0])
        assert score is not None, "the PAD models must be loaded"
        scores.append(score)
    return scores


def test_the_models_score_a_phone_in_the_room_as_spoof_and_the_candidate_as_live(
        analyzer: FaceAnalyzer, face: Face) -> None:
    frames = range(0, 10, 2)       # every 2nd frame, as the check scores them
    live = real_scores(analyzer, [cooperative(face, 1).render(i, Cue()) for i in frames])
    phone = real_scores(analyzer, [reactive_screen(face, 1, scale=0.7).render(i, Cue())
                                   for i in frames])
    assert min(live) >= MIN_LIVE, live
    assert max(phone) < MIN_LIVE, phone
    # The same real scores through the real vote: the phone is an attack, the face is not.
    for scores, is_attack in ((phone, True), (live, False)):
        vote = PadVote(min_live=MIN_LIVE, min_frames=DEFAULT_SETTINGS.pad_min_frames)
        for score in scores:
            vote.add(score)
        assert vote.decided and vote.attack is is_attack


# Medians recorded from the real models (seeds 0-1 of reactive_screen at scales 0.7,
# 0.85, 1.0 and a cooperative candidate): the phone fully in view, partly, filling it.
RECORDED = {"phone_small": 0.00006, "phone_mid": 0.067, "phone_full": 0.398,
            "phone_full_other": 0.408, "candidate": 0.899}


@pytest.mark.parametrize(("scores", "attack", "decided"), [
    ([RECORDED["phone_small"]] * 5, True, True),
    ([RECORDED["phone_mid"]] * 4 + [RECORDED["candidate"]] * 3, True, True),   # median
    ([RECORDED["phone_full"]] * 5, True, True),                # just under 0.40
    ([MIN_LIVE] * 5, False, True),                             # the threshold is live
    ([RECORDED["phone_full_other"]] * 5, False, True),         # a full-view phone passes
    ([RECORDED["candidate"]] * 4 + [RECORDED["phone_small"]] * 3, False, True),
    ([RECORDED["phone_small"]] * 4, False, False),             # too few frames: undecided
    ([None] * 9 + [RECORDED["phone_small"]] * 4, False, False),  # unscored frames don't count
])
def test_the_vote_decides_on_the_median_of_enough_frames(
        scores: list[float | None], attack: bool, decided: bool) -> None:
    vote = PadVote(min_live=MIN_LIVE, min_frames=DEFAULT_SETTINGS.pad_min_frames)
    for score in scores:
        vote.add(score)
    assert (vote.attack, vote.decided) == (attack, decided)


@pytest.mark.slow
def test_a_phone_following_the_prompts_passes_liveness_but_not_pad(
        analyzer: FaceAnalyzer, face: Face) -> None:
    """Marked slow: one whole check with the real models (100-200 frames, 5-30 s)."""
    result = attempt(analyzer, reactive_screen(face, 1, scale=0.7), seed=1)
    assert result.outcome is Outcome.PRESENTATION_ATTACK, result.reason
    assert result.reason == "pad.attack"
    assert "疑似照片或屏幕" in result.message
    assert result.pad_frames >= DEFAULT_SETTINGS.pad_min_frames
    assert result.pad_median is not None and result.pad_median < MIN_LIVE
    assert result.parallax      # liveness ran to the end (the turn was measured)
