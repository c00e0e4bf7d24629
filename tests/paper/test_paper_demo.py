"""The shipped demo paper (resources/demo/paper) loads, covers every type, and scores."""

from __future__ import annotations

import io
import struct
import wave

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.paper.localized import PAPER_LANGUAGES
from client.paper.model import Paper, QuestionType
from client.paper.package import build_package, generate_paper_key, open_package
from client.paper.scoring import score_answers
from client.paper.source import PaperSource
from client.paper.values import JsonValue
from client.resources import resource_path

DEMO = resource_path("demo", "paper")


@pytest.fixture(scope="module")
def demo() -> Paper:
    return PaperSource.from_path(DEMO).load()


def test_demo_covers_every_type(demo: Paper) -> None:
    assert len(demo.sections) == 3
    types = [item.type for item in demo.items()]
    assert types.count(QuestionType.SINGLE) >= 2
    assert types.count(QuestionType.MULTIPLE) >= 1
    assert types.count(QuestionType.TRUE_FALSE) >= 2
    assert any(i.type is QuestionType.FILL_BLANK and i.blanks == 2 for i in demo.items())
    assert any(i.type is QuestionType.ESSAY and i.max_length for i in demo.items())
    listening = [i for i in demo.items() if i.audio is not None]
    assert len(listening) == 1 and listening[0].type is QuestionType.SINGLE
    assert listening[0].audio is not None and listening[0].audio.max_plays == 2
    assert demo.has_keys
    assert demo.max_score == sum(section.score for section in demo.sections) == 30


def test_demo_is_bilingual_and_uses_rich_text(demo: Paper) -> None:
    texts = [demo.title, *(s.title for s in demo.sections)]
    for item in demo.items():
        texts += [item.stem, *(o.text for o in item.options)]
    assert all(set(text.languages) == set(PAPER_LANGUAGES) for text in texts)
    stems = " ".join(item.stem.source for item in demo.items())
    for markup in ("<b>", "<sub>", "<sup>", "<table", '<img src="media:chart.png"'):
        assert markup in stems or markup in "".join(
            o.text.source for i in demo.items() for o in i.options), markup


def test_demo_media_are_small_and_as_documented(demo: Paper) -> None:
    assert set(demo.media) == {"chart.png", "listen1.wav"}
    png = demo.media["chart.png"]
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (480, 300)
    with wave.open(io.BytesIO(demo.media["listen1.wav"])) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, 16000)
        assert 3.0 <= clip.getnframes() / clip.getframerate() <= 6.0
    assert len(demo.media["listen1.wav"]) < 200 * 1024


def test_demo_scores(demo: Paper) -> None:
    right: dict[str, JsonValue] = {
        "q1": "B", "q2": "C", "q3": "B", "q4": ["A", "B", "D"], "q5": True, "q6": False,
        "q7": ["１００", " 十二 "], "q8": "诚信是考试的基础。",
    }
    report = score_answers(demo, right)
    assert report.total == report.max_objective == 18
    assert report.unscored_items == ("q8",)
    assert score_answers(demo, {}).total == 0


def test_demo_package_round_trip(demo: Paper) -> None:
    key, signer = generate_paper_key(), Ed25519PrivateKey.generate()
    data = build_package(source=PaperSource.from_path(DEMO), exam_id="demo-exam",
                         paper_key=key, signing_key=signer)
    opened = open_package(data, trusted_key=signer.public_key(), expected_exam_id="demo-exam",
                          paper_key=key)
    assert opened.to_json_dict() == {**demo.without_keys().to_json_dict(), "exam_id": "demo-exam"}
    assert opened.media == demo.media
