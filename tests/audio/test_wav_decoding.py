"""WAV clips become the samples PortAudio plays: 8-bit WAV is unsigned (silence = 128)."""

from __future__ import annotations

import io
import wave

import numpy as np

from client.audio import decode_wav, pcm_samples


def wav(frames: bytes, *, width: int, channels: int = 1, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(channels)
        clip.setsampwidth(width)
        clip.setframerate(rate)
        clip.writeframes(frames)
    return out.getvalue()


def test_eight_bit_silence_is_silence_and_extremes_keep_their_sign() -> None:
    frames, rate, channels, width = decode_wav(wav(bytes([128, 128, 0, 255]), width=1))
    samples = pcm_samples(frames, width=width, channels=channels)
    assert rate == 8000 and samples.dtype == np.int16
    assert samples[:, 0].tolist() == [0, 0, -32768, 127 << 8]


def test_sixteen_bit_stereo_keeps_its_values() -> None:
    data = np.array([[0, -1], [1000, -1000]], dtype="<i2").tobytes()
    frames, _rate, channels, width = decode_wav(wav(data, width=2, channels=2))
    samples = pcm_samples(frames, width=width, channels=channels)
    assert samples.shape == (2, 2) and samples.tolist() == [[0, -1], [1000, -1000]]
