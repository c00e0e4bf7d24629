"""Passive presentation-attack detection: MiniFASNet (Silent-Face-Anti-Spoofing), two models.

Upstream's recipe (resources/models/PROVENANCE.md): a square crop around the face box,
2.7x (MiniFASNetV2) and 4.0x (MiniFASNetV1SE) its size, clipped to the image, resized to
80x80, BGR, channels first, float 0..255; softmax over 3 classes, class 1 is "live"; the
two models' softmax vectors are averaged. What the models respond to, measured on this
project's sequences (docs/camera.md, "Passive PAD"), is mostly the context in the wide
crop: the edge of a sheet, a screen's bezel or a hand holding it. A photo that fills the
camera's whole view is NOT recognised: that case is the geometry tests' job.

Decided over several frames (client.camera.pad_vote), never on one.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

_INPUT = 80
_SCALES = (2.7, 4.0)


def _square_crop(image: npt.NDArray[np.uint8], box: tuple[float, float, float, float],
                 scale: float) -> npt.NDArray[np.uint8]:
    height, width = image.shape[:2]
    x, y, w, h = box
    side = min(max(w, h) * scale, width, height)
    center_x, center_y = x + w / 2.0, y + h / 2.0
    x0 = int(min(max(center_x - side / 2.0, 0.0), width - side))
    y0 = int(min(max(center_y - side / 2.0, 0.0), height - side))
    size = max(int(side), 1)
    crop = image[y0:y0 + size, x0:x0 + size]
    return cv2.resize(crop, (_INPUT, _INPUT), interpolation=cv2.INTER_LINEAR)  # type: ignore[return-value]


class PassiveAntiSpoof:
    """The two MiniFASNet models in OpenCV DNN (~3 ms per crop each on one core)."""

    def __init__(self, v2_onnx: bytes, v1se_onnx: bytes) -> None:
        self._nets: list[tuple[Any, float]] = []
        for data, scale in zip((v2_onnx, v1se_onnx), _SCALES, strict=True):
            net = cv2.dnn.readNetFromONNX(np.frombuffer(data, np.uint8))
            self._nets.append((net, scale))

    def real_probability(self, image: npt.NDArray[np.uint8],
                         box: tuple[float, float, float, float]) -> float:
        total = np.zeros(3, np.float64)
        for net, scale in self._nets:
            crop = _square_crop(image, box, scale)
            blob = crop.transpose(2, 0, 1)[None].astype(np.float32)
            net.setInput(blob)
            logits = np.asarray(net.forward(), dtype=np.float64).reshape(-1)
            exp = np.exp(logits - logits.max())
            total += exp / exp.sum()
        return float(total[1] / len(self._nets))
