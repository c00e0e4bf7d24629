"""``exam-server check-photos DIR [--report FILE]``: base photos (底照) against the rules.

Every image in DIR (and its subfolders) is checked against the whole standard:
client.camera.base_photo (one face, centred, frontal, eyes open, even light without glare
or backlight, clothing that contrasts with the background, resolution, sharpness) and
client.camera.photo_standard (head covering, hair over the eyebrows, eyes and shoulders
level, jewelry, lips closed, make-up, glasses, clothing pattern, plain background), and
gets one line in the report:
CSV (UTF-8 with BOM, opens in Excel) or JSON when FILE ends in .json. The exit code is
1 when any photo needs replacing, so a script can stop an upload.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.errors import UserFacingError
from client.i18n import _

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
MEASURE_COLUMNS = (
    "width", "height", "face_count", "face_width", "center_x", "center_y", "yaw",
    "eye_aspect_ratio", "face_brightness", "background_brightness", "side_light_ratio",
    "glare_fraction", "sharpness", "background_contrast",
    # The rest of the standard (client/camera/photo_standard.py)
    "crown_chroma", "forehead_to_cheek", "roll_deg", "shoulder_offset", "jewelry_fraction",
    "mouth_gap", "jaw_open", "lip_saturation_over_skin", "lid_saturation_over_skin",
    "eye_to_cheek", "frame_row_darkness", "eye_glare_fraction", "clothes_edge_density",
    "clothes_chroma_spread", "background_edge_density", "background_lightness_std",
)
DEFAULT_REPORT_NAME = "photo_check_report.csv"


@dataclass(frozen=True)
class PhotoResult:
    file: str                       # relative to the checked folder
    ok: bool
    problems: tuple[str, ...]       # stable codes (PhotoProblem values)
    problem_texts: tuple[str, ...]  # translated
    measures: dict[str, float | int | None]


def find_photos(directory: Path) -> list[Path]:
    return sorted(
        path for path in directory.rglob("*")
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    )


def check_photos(directory: Path, *, analyzer: Any = None) -> list[PhotoResult]:
    """Check every photo in *directory* (*analyzer*: a FaceAnalyzer, loaded if None)."""
    from client.camera.analyzer import FaceAnalyzer
    from client.camera.base_photo import check_base_photo, problem_text

    if not directory.is_dir():
        raise UserFacingError(
            "photos.not_a_directory", _("找不到底照文件夹：{path}").format(path=directory)
        )
    owned = analyzer is None
    instance = FaceAnalyzer(video_mode=False) if owned else analyzer
    try:
        results = []
        for path in find_photos(directory):
            try:
                data = path.read_bytes()
            except OSError:
                data = b""
            report = check_base_photo(data, instance, full_standard=True)
            results.append(
                PhotoResult(
                    file=path.relative_to(directory).as_posix(),
                    ok=report.ok,
                    problems=tuple(problem.value for problem in report.problems),
                    problem_texts=tuple(problem_text(problem) for problem in report.problems),
                    measures=dict(report.measures),
                )
            )
        return results
    finally:
        if owned:
            instance.close()


def write_report(results: Iterable[PhotoResult], path: Path) -> None:
    rows = list(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        payload = [
            {"file": r.file, "ok": r.ok, "problems": list(r.problems),
             "problem_texts": list(r.problem_texts), "measures": r.measures}
            for r in rows
        ]
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
        return
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([_("文件"), _("结果"), _("问题"), _("问题代码"), *MEASURE_COLUMNS])
        for r in rows:
            writer.writerow([
                r.file,
                _("合格") if r.ok else _("不合格"),
                "；".join(r.problem_texts),
                " ".join(r.problems),
                *("" if r.measures.get(c) is None else r.measures[c] for c in MEASURE_COLUMNS),
            ])


def cmd_check_photos(args: argparse.Namespace) -> int:
    directory: Path = args.dir
    results = check_photos(directory)
    report_path: Path = args.report or directory / DEFAULT_REPORT_NAME
    write_report(results, report_path)
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"{r.file}: {'；'.join(r.problem_texts)}")
    print(
        _("共检查 {total} 张底照，合格 {ok} 张，不合格 {bad} 张；报告：{report}").format(
            total=len(results), ok=len(results) - len(failed), bad=len(failed),
            report=report_path,
        )
    )
    if not results:
        print(_("文件夹中没有图片（支持 jpg、png、bmp、webp、tif）"), file=sys.stderr)
    return 1 if failed else 0


def register_cli(subparsers: Any) -> None:
    """Add ``check-photos DIR [--report FILE]`` to exam-server's subcommands."""
    parser = subparsers.add_parser("check-photos", help=_("按采集要求检查底照并生成逐张报告"))
    parser.add_argument("dir", type=Path, help=_("底照所在文件夹"))
    parser.add_argument(
        "--report", type=Path, default=None,
        help=_("报告文件（.csv 或 .json），默认为文件夹中的 photo_check_report.csv"),
    )
    parser.set_defaults(func=cmd_check_photos)
