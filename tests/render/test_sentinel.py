import json

from client.render import sentinel
from client.render.levels import RenderLevel


def events(state_dir):
    return [r["event"] for r in sentinel.read_history(state_dir)]


def test_first_start_uses_the_highest_level(tmp_path):
    decision = sentinel.choose_level("auto", tmp_path)
    assert (decision.level, decision.code, decision.automatic) == (RenderLevel.HARDWARE,
                                                                   "default", True)


def test_unfinished_starts_step_down_to_software_and_stay(tmp_path):
    seen = []
    for _ in range(4):
        decision = sentinel.choose_level("auto", tmp_path)
        seen.append(int(decision.level))
        sentinel.mark_starting(tmp_path, decision)  # ... and the start dies here
    assert seen == [2, 1, 0, 0]
    decision = sentinel.choose_level("auto", tmp_path)
    assert decision.code == "fallback.sentinel" and decision.fell_back
    assert "already at the lowest level" in decision.reason
    fallbacks = [r for r in sentinel.read_history(tmp_path) if r["event"] == "fallback"]
    assert [(r["from_level"], r["to_level"]) for r in fallbacks] == [(2, 1), (1, 0), (0, 0),
                                                                      (0, 0)]


def test_healthy_start_is_remembered_and_reused(tmp_path):
    first = sentinel.choose_level("auto", tmp_path)
    sentinel.mark_starting(tmp_path, first)
    second = sentinel.choose_level("auto", tmp_path)  # the first one crashed
    sentinel.mark_starting(tmp_path, second)
    sentinel.mark_healthy(tmp_path, second)
    assert not (tmp_path / sentinel.SENTINEL_FILE).exists()
    third = sentinel.choose_level("auto", tmp_path)
    assert (third.level, third.code) == (RenderLevel.COMPATIBILITY, "remembered")
    assert "did not reach its first frame" in third.reason
    assert events(tmp_path) == ["start", "fallback", "start", "healthy"]


def test_configured_level_wins_and_is_not_remembered(tmp_path):
    sentinel.remember_level(tmp_path, RenderLevel.SOFTWARE, reason="earlier fallback")
    decision = sentinel.choose_level(2, tmp_path)
    assert (decision.level, decision.code, decision.automatic) == (RenderLevel.HARDWARE,
                                                                   "configured", False)
    sentinel.mark_starting(tmp_path, decision)
    again = sentinel.choose_level(2, tmp_path)  # crashed, but the admin fixed the level
    assert again.level is RenderLevel.HARDWARE
    assert "unfinished_start" in events(tmp_path)
    sentinel.mark_healthy(tmp_path, again)
    remembered = sentinel.read_remembered(tmp_path)
    assert remembered is not None and remembered.level is RenderLevel.SOFTWARE


def test_record_failure_lowers_under_auto_only(tmp_path):
    auto = sentinel.choose_level("auto", tmp_path)
    sentinel.mark_starting(tmp_path, auto)
    assert sentinel.record_failure(tmp_path, level=auto.level, cause="qt_message",
                                   reason="Failed to create QRhi") is RenderLevel.COMPATIBILITY
    assert not (tmp_path / sentinel.SENTINEL_FILE).exists()
    next_start = sentinel.choose_level("auto", tmp_path)
    assert next_start.level is RenderLevel.COMPATIBILITY
    assert "Failed to create QRhi" in next_start.reason
    kept = sentinel.record_failure(tmp_path, level=RenderLevel.HARDWARE, cause="white_screen",
                                   reason="flat", automatic=False)
    assert kept is RenderLevel.HARDWARE
    assert sentinel.read_history(tmp_path)[-1]["event"] == "failure_kept_configured_level"


def test_admin_reset_forgets_the_level(tmp_path):
    sentinel.remember_level(tmp_path, RenderLevel.SOFTWARE, reason="x")
    sentinel.reset_remembered_level(tmp_path)
    assert sentinel.choose_level("auto", tmp_path).level is RenderLevel.HARDWARE
    assert events(tmp_path)[-1] == "reset"


def test_garbled_state_files_do_not_stop_a_start(tmp_path):
    (tmp_path / sentinel.REMEMBERED_FILE).write_text("{not json", encoding="utf-8")
    (tmp_path / sentinel.SENTINEL_FILE).write_bytes(b"\x00\x01")
    (tmp_path / sentinel.HISTORY_FILE).write_text('{"event": "start"}\n{"torn', encoding="utf-8")
    decision = sentinel.choose_level("auto", tmp_path)
    # An unreadable sentinel still means the last start did not finish.
    assert (decision.level, decision.code) == (RenderLevel.COMPATIBILITY, "fallback.sentinel")
    assert events(tmp_path) == ["start", "fallback"]


def test_sentinel_content(tmp_path):
    decision = sentinel.choose_level("auto", tmp_path)
    sentinel.mark_starting(tmp_path, decision)
    data = json.loads((tmp_path / sentinel.SENTINEL_FILE).read_text(encoding="utf-8"))
    assert data["level"] == 2 and data["pid"] > 0 and data["code"] == "default"
    sentinel.disarm(tmp_path, why="test")
    assert sentinel.choose_level("auto", tmp_path).code == "default"


def test_an_end_after_the_first_frame_keeps_the_level(tmp_path):
    """Issue 14: a start that painted its first frame and was then killed (crash elsewhere,
    task manager, power cut) is not a rendering failure; repeated ones never step down."""
    for _ in range(3):
        decision = sentinel.choose_level("auto", tmp_path)
        assert decision.level is RenderLevel.HARDWARE and not decision.fell_back
        sentinel.mark_starting(tmp_path, decision)
        sentinel.mark_first_frame(tmp_path, decision)  # ... and it is killed here
    assert sentinel.read_remembered(tmp_path) is None
    assert events(tmp_path).count("ended_after_first_frame") == 2
    assert "fallback" not in events(tmp_path)
    record = sentinel.read_sentinel(tmp_path)
    assert record is not None and record.first_frame_at is not None


def test_a_start_that_never_painted_still_steps_down(tmp_path):
    decision = sentinel.choose_level("auto", tmp_path)
    sentinel.mark_starting(tmp_path, decision)  # dies before its first frame
    again = sentinel.choose_level("auto", tmp_path)
    assert again.fell_back and again.level is RenderLevel.COMPATIBILITY
    assert "did not reach its first frame" in again.reason
