"""Where the identity check's memory goes: RSS after each import and each model build.

    python benchmarks/camera_memory.py [--frames N]

benchmarks/camera.py measures the peak of the whole client process through 6 checks;
this script splits it. Each column is a fresh process (bare interpreter -> the client's
UI imports -> cv2 -> mediapipe -> the model files -> each model built in FaceAnalyzer's
order and run once -> N frames through FaceAnalyzer.analyze with landmarks). Printed per
step: RSS after it, its increase, and the peak while it ran (sampled every 5 ms: the
ONNX import's transient shows there). The two columns differ only in how mediapipe is
imported: ``full`` is ``import mediapipe`` (what the client did before: every task
package, matplotlib with it), ``client`` is client.camera.mediapipe_api (FaceLandmarker's
modules only). tracemalloc cannot see these figures: almost all of it is native memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "camera")]
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("GLOG_minloglevel", "2")


class Steps:
    """RSS after each step and the peak during it (a 5 ms sampling thread)."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.rows: list[tuple[str, int, int]] = []
        self._peak = self._rss()
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _rss(self) -> int:
        return int(self._process.memory_info().rss)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self._peak = max(self._peak, self._rss())

    def mark(self, label: str) -> None:
        time.sleep(0.03)            # let the sampler see the end of the step
        rss = self._rss()
        self.rows.append((label, rss, max(self._peak, rss)))
        self._peak = rss


def child(mode: str, frame_path: str, frames: int) -> None:
    steps = Steps()
    steps.mark("bare interpreter")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    import client.ui.main_window  # noqa: F401  (the real client's modules)

    app = QApplication.instance() or QApplication([])
    steps.mark("client UI imports + QApplication")
    import cv2
    import numpy as np

    steps.mark("cv2 + numpy")
    if mode == "full":
        import mediapipe  # noqa: F401  (the whole package, as the client imported it before)
    from client.camera.mediapipe_api import landmarker_api

    landmarker_api()
    steps.mark("mediapipe")

    from client.camera import analyzer as analyzer_module
    from client.camera.models import load_model_bytes
    from client.camera.pad import PassiveAntiSpoof

    models = load_model_bytes()
    steps.mark("model files read (freed after the build)")
    empty = np.empty(0, np.uint8)
    detector = cv2.FaceDetectorYN.create("onnx", np.frombuffer(models.yunet, np.uint8), empty,
                                         (320, 320), 0.6, 0.3, 5000)
    steps.mark("YuNet built")
    recognizer = cv2.FaceRecognizerSF.create("onnx", np.frombuffer(models.sface, np.uint8),
                                             empty)
    steps.mark("SFace built (peak: ONNX import)")
    recognizer.feature(np.zeros((112, 112, 3), np.uint8))
    steps.mark("SFace first run")
    landmarker = analyzer_module._create_landmarker(models.landmarker, video_mode=True)
    steps.mark("FaceLandmarker built")
    pad = PassiveAntiSpoof(models.pad_v2, models.pad_v1se)
    steps.mark("MiniFASNet x2 built")
    del models, detector, recognizer, landmarker, pad
    steps.mark("the pieces above freed")

    frame = cv2.imread(frame_path)
    with analyzer_module.FaceAnalyzer() as analyzer:
        steps.mark("FaceAnalyzer built (as the client builds it)")
        for index in range(frames):
            analysis = analyzer.analyze(frame, t_ms=index * 40)
        face = analysis.face
        assert face is not None and analysis.signals is not None
        analyzer.spoof_score(frame, face)
        analyzer.embed(frame, face)
        steps.mark(f"{frames} frames analysed + PAD + embed")
    del app
    print(json.dumps(steps.rows))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child[0], args.child[1], args.frames)
        return 0
    import camera_sequences as cs
    import cv2

    columns = {}
    with tempfile.TemporaryDirectory(prefix="camera-memory-") as scratch:
        frame_path = str(Path(scratch) / "frame.png")
        cv2.imwrite(frame_path, cs.astronaut_frame())
        for mode in ("full", "client"):
            done = subprocess.run(
                [sys.executable, __file__, "--frames", str(args.frames), "--child", mode,
                 frame_path], cwd=ROOT, check=True, capture_output=True, text=True)
            columns[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(f"RSS per step, MB (load average {load:.1f}); each column a fresh process")
    print(f"{'step':<46} {'full: RSS  +step  peak':>24}   {'client: RSS  +step  peak':>26}")
    previous = {mode: 0 for mode in columns}
    for index, (label, _, _) in enumerate(columns["client"]):
        cells = []
        for mode in ("full", "client"):
            _, rss, peak = columns[mode][index]
            cells.append(f"{rss / 2**20:6.0f} {(rss - previous[mode]) / 2**20:+6.0f} "
                         f"{peak / 2**20:6.0f}")
            previous[mode] = rss
        print(f"{label:<46} {cells[0]:>24}   {cells[1]:>26}")
    # The step-by-step build is the client's (one set of models per process); the second
    # build through FaceAnalyzer only checks that the steps add up to the real thing.
    built = [label for label, _, _ in columns["client"]].index("MiniFASNet x2 built") + 1
    peak = {mode: max(row[2] for row in rows[:built]) for mode, rows in columns.items()}
    print(f"peak while building step by step: full {peak['full'] / 2**20:.0f} MB, client "
          f"{peak['client'] / 2**20:.0f} MB (saved {(peak['full'] - peak['client']) / 2**20:.0f}"
          f" MB); after the frames: full {columns['full'][-1][1] / 2**20:.0f} MB, client "
          f"{columns['client'][-1][1] / 2**20:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
