"""The passive PAD verdict of one attempt: the median of its frames' live probabilities.

Kept apart from pad.py (which loads OpenCV) so that the deciding rule imports nothing
heavy. A few odd frames do not decide; a sheet or a screen seen for most of the check does.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class PadVote:
    min_live: float
    min_frames: int
    scores: list[float] = field(default_factory=list)

    def add(self, score: float | None) -> None:
        if score is not None:
            self.scores.append(score)

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def decided(self) -> bool:
        return len(self.scores) >= self.min_frames

    @property
    def attack(self) -> bool:
        median = self.median
        return self.decided and median is not None and median < self.min_live
