"""Play a listening item's WAV clip through the sound card, off the UI thread.

Qt Multimedia is not part of PySide6-Essentials; sounddevice (PortAudio) already comes
with mediapipe, plays from memory (the clip never lands on disk in plain form) and ships
its PortAudio DLL in the Windows wheel. WAV is decoded with the standard library.
"""

from __future__ import annotations

import io
import logging
import threading
import wave
from collections.abc import Callable
from typing import Any

from client.errors import UserFacingError
from client.i18n import _

log = logging.getLogger(__name__)


def decode_wav(data: bytes) -> tuple[bytes, int, int, int]:
    """Return (frames, sample_rate, channels, sample_width) of a PCM WAV file."""
    try:
        with wave.open(io.BytesIO(data)) as clip:
            return (clip.readframes(clip.getnframes()), clip.getframerate(),
                    clip.getnchannels(), clip.getsampwidth())
    except (wave.Error, EOFError) as exc:
        raise UserFacingError("audio.corrupt", _("听力音频已损坏，请联系监考教师")) from exc


def pcm_samples(frames: bytes, *, width: int, channels: int) -> Any:
    """Frames as a (samples, channels) numpy array PortAudio can play. 8-bit WAV is
    UNSIGNED (silence is 128), unlike the wider formats: it is centred and widened to
    int16, or every clip would play as loud clipped noise."""
    import numpy as np

    if width == 1:
        centred = np.frombuffer(frames, dtype=np.uint8).astype(np.int16) - 128
        return (centred << 8).reshape(-1, channels)
    dtype = {2: np.int16, 4: np.int32}[width]
    return np.frombuffer(frames, dtype=dtype).reshape(-1, channels)


def play_wav(data: bytes, *, on_finished: Callable[[BaseException | None], None]) -> None:
    """Start playback on a worker thread; *on_finished* gets None or the failure."""
    frames, rate, channels, width = decode_wav(data)

    def run() -> None:
        try:
            import sounddevice  # lazy: PortAudio loads only when a clip is played

            samples = pcm_samples(frames, width=width, channels=channels)
            sounddevice.play(samples, rate, blocking=True)
        except Exception as exc:  # no device, driver error, PortAudio missing
            log.warning("audio playback failed: %r", exc)
            on_finished(UserFacingError(
                "audio.no_device",
                _("无法播放音频：请检查耳机或音箱是否连接，并告知监考教师（本次播放不计次数）")))
        else:
            on_finished(None)

    threading.Thread(target=run, name="audio-playback", daemon=True).start()
