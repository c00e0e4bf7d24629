"""The status texts the pages show: saved / synced / offline since hh:mm / refused."""

from __future__ import annotations

from client.session.view_model import sync_state_text
from client.sync.pusher import SyncStatus
from client.timefmt import beijing_clock

AT = 1_750_000_000_000


def test_each_sync_state_says_what_is_true() -> None:
    assert sync_state_text(None) == ("saved", "答案已保存到本机，等待上传")
    assert sync_state_text(SyncStatus("pending", 3, None, None))[0] == "saved"
    state, text = sync_state_text(SyncStatus("synced", 0, None, AT))
    assert state == "synced" and text.endswith(beijing_clock(AT, seconds=True))
    state, text = sync_state_text(SyncStatus("offline", 2, AT, None, "net.offline"))
    assert state == "offline" and beijing_clock(AT) in text and "本机" in text
    state, text = sync_state_text(SyncStatus("refused", 2, AT, None, "second_login"))
    assert state == "refused" and "授权" in text
    assert "unauthorized" in sync_state_text(SyncStatus("refused", 1, AT, None,
                                                        "unauthorized"))[1]
