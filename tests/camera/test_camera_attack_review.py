"""The attack-review generator's sheets (tests/camera/attack_review.py) are the sheets
they claim to be: its ray caster agrees with attacks.held's homography for a flat sheet,
a cylinder of very large radius is that flat sheet, and a bent or folded sheet differs
from it where the sheet curves. No models: the figures of these kinds come from
benchmarks/camera_attacks.py --review (docs/camera.md, "Attack review")."""

from __future__ import annotations

import random

import numpy as np
import pytest
from attack_review import Surface, held_surface
from attacks import SheetPose, held, room_background
from camera_sequences import astronaut_frame

POSES = [SheetPose(scale=1.2), SheetPose(yaw=35, pitch=20, roll=10, scale=1.2),
         SheetPose(yaw=-25, dx=40, dy=-20, scale=0.7)]


@pytest.fixture(scope="module")
def sheet() -> tuple[np.ndarray, np.ndarray]:
    return astronaut_frame(), room_background(random.Random(3))


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("pose", POSES)
def test_a_flat_surface_is_the_homography_sheet(sheet: tuple[np.ndarray, np.ndarray],
                                                pose: SheetPose) -> None:
    picture, background = sheet
    cast = held_surface(picture, pose, Surface(), background, shaded=False)
    warped = held(picture, pose, background)
    # Edge pixels and interpolation differ by a little; a wrong rotation or projection
    # moves the whole picture (tens of grey levels on average).
    assert _mean_difference(cast, warped) < 2.0


@pytest.mark.parametrize("pose", POSES)
def test_a_very_loose_cylinder_is_flat(sheet: tuple[np.ndarray, np.ndarray],
                                       pose: SheetPose) -> None:
    picture, background = sheet
    flat = held_surface(picture, pose, Surface(), background)
    loose = held_surface(picture, pose, Surface("cylinder", radius=1e6), background)
    assert _mean_difference(flat, loose) < 2.0


@pytest.mark.parametrize("surface", [Surface("cylinder", radius=120.0, pivot=90.0),
                                     Surface("fold", fold_x=10.0, fold_deg=30.0, pivot=80.0)])
def test_a_bent_sheet_is_not_flat(sheet: tuple[np.ndarray, np.ndarray],
                                  surface: Surface) -> None:
    picture, background = sheet
    pose = SheetPose(yaw=25, scale=1.2)
    flat = held_surface(picture, pose, Surface(), background)
    bent = held_surface(picture, pose, surface, background)
    assert _mean_difference(flat, bent) > 10.0
    # The middle column of the sheet still shows the print (it is the nearest part).
    assert not np.array_equal(bent[240, 300:340], background[240, 300:340])
