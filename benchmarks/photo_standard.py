"""Photo standard benchmark: how often each base-photo rule catches its synthetic
violations, and how often it fires on permitted photos or on the OTHER rules' violations.

Permitted photos: scikit-image's astronaut portrait (a real, frontal face) in front of a
plain wall, in variants of scale, position, wall colour and light (tests/rules/photo_synth.py).
Violations are drawn on them (a hat, a fringe, a tilt, gold earrings, dark lenses, ...).
These are SYNTHETIC: one face, drawn props. The rates say the measures separate these
cases; they do not say how the rules do on real collection photos (see docs/camera.md for
the rules this benchmark cannot vouch for).

    python benchmarks/photo_standard.py [--samples 12]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "rules")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=12)
    args = parser.parse_args()

    from photo_synth import MORE_VIOLATIONS, VIOLATIONS, analyse, permitted_samples

    from client.camera.analyzer import FaceAnalyzer
    from client.camera.photo_standard import StandardProblem, check_standard

    started = time.perf_counter()
    with FaceAnalyzer(video_mode=False) as analyzer:
        samples = permitted_samples(analyzer, count=args.samples)
        fired_on_permitted: dict[str, int] = {p.value: 0 for p in StandardProblem}
        for sample in samples:
            found = analyse(analyzer, sample.image)
            assert found is not None
            for problem in check_standard(sample.image, *found).problems:
                fired_on_permitted[problem.value] += 1
        caught: dict[str, int] = {}
        cross: dict[str, int] = {p.value: 0 for p in StandardProblem}
        lost: dict[str, int] = {}
        for rule, make in VIOLATIONS.items():
            caught[rule] = lost[rule] = 0
            for sample in samples:
                image = make(sample)
                found = analyse(analyzer, image)
                if found is None:
                    lost[rule] += 1   # no face left to check: the basic rules refuse it
                    continue
                problems = {p.value for p in check_standard(image, *found).problems}
                caught[rule] += rule in problems
                for other in problems - {rule}:
                    cross[other] += 1
        # Further drawings of a rule's violation (a lock over one eye for the hair rule):
        # caught by their rule, and which other rules they set off (whose advice is wrong).
        more: dict[str, tuple[int, int, dict[str, int]]] = {}
        for name, (rule, make) in MORE_VIOLATIONS.items():
            hits, gone, others_fired = 0, 0, {}
            for sample in samples:
                image = make(sample)
                found = analyse(analyzer, image)
                if found is None:
                    gone += 1
                    continue
                problems = {p.value for p in check_standard(image, *found).problems}
                hits += rule in problems
                for other in problems - {rule}:
                    others_fired[other] = others_fired.get(other, 0) + 1
            more[name] = (hits, gone, others_fired)
        elapsed = time.perf_counter() - started

    n = len(samples)
    others = n * (len(VIOLATIONS) - 1)
    print(f"permitted photos: {n}; violations per rule: {n}; "
          f"{(n * (len(VIOLATIONS) + 1)) / elapsed:.1f} photos/s checked (incl. synthesis)")
    print(f"{'rule':<22}{'caught':>10}{'false+ permitted':>20}{'fires on other':>18}"
          f"{'face lost':>12}")
    for rule in VIOLATIONS:
        print(f"{rule:<22}{caught[rule]:>5}/{n:<4}{fired_on_permitted[rule]:>14}/{n:<5}"
              f"{cross[rule]:>11}/{others:<6}{lost[rule]:>8}/{n}")
    for name, (hits, gone, others_fired) in more.items():
        rule = MORE_VIOLATIONS[name][0]
        also = ", ".join(f"{k} {v}" for k, v in sorted(others_fired.items())) or "none"
        print(f"{name} (rule {rule}): caught {hits}/{n}, face lost {gone}/{n}, "
              f"other rules fired: {also}")
    total = sum(caught.values())
    print(f"overall: caught {total}/{n * len(VIOLATIONS)} "
          f"({100.0 * total / (n * len(VIOLATIONS)):.1f}%), "
          f"false positives on permitted {sum(fired_on_permitted.values())}/"
          f"{n * len(VIOLATIONS)} rule checks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
