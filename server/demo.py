"""The demo data set: one center, one admin, three candidates, and the demo exam.

Used by ``exam-server init-demo``, by ``server.testing.live_server`` and by the client's
demo mode. The candidates cover the login rules of domain.md: a plain ID number, an ID
ending in x (stored upper-case, password upper-case), and an ID with parentheses (Hong
Kong, password 123456).
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from pathlib import Path

from client.resources import resource_path
from server.candidates import upsert_candidate
from server.clock import Clock
from server.config import ServerSettings
from server.db import Database
from server.keys import ServerKeys
from server.offline_package import ensure_exam_secrets
from server.papers import import_paper, refresh_package
from server.passwords import default_password, hash_admin_password, hash_password

DEMO_EXAM_ID = "demo-exam"
DEMO_CENTER_ID = "demo-center"
DEMO_CENTER_NAME = "演示考点"
DEMO_CENTER_ADDRESS = "北京市海淀区学院路 1 号（演示地址）"  # made up, like the candidates
DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_NAME = "周敏"  # the center admin by real name (signs web uploads)
DEMO_PROCTOR_NAME = "王老师"
DEMO_PROCTOR_PASSWORD = "jiankao2026"  # demo only: real proctors get random passwords
DEMO_PROCTOR_ID_NUMBER = "110101198002023456"  # demo only: a made-up number
DEMO_PLEDGE_ZH = ("本人自愿参加本次考试，郑重承诺：\n"
                  "一、已认真阅读考试规则和考场纪律，严格遵守；\n"
                  "二、独立完成考试，不请人代考，不替他人考试；\n"
                  "三、考试期间不使用手机等通讯工具，不打开与考试无关的软件；\n"
                  "四、不拍摄、传播试题；\n"
                  "如有违反，自愿接受取消考试成绩等处理。")
DEMO_PLEDGE_EN = "I take this exam of my own will and pledge to keep the exam rules."


def demo_paper_source() -> Path:
    return resource_path("demo", "paper")


def demo_proctor_photo() -> Path:
    """The demo proctor's photo (resources/demo/make_photos.py)."""
    return resource_path("demo", "photos", "proctor.jpg")


@functools.lru_cache(maxsize=16)
def _demo_password_hash(password: str) -> str:
    # The demo passwords are printed for everyone, so one salted hash per process can be
    # shared by every demo data directory (tests start many servers; argon2 is slow).
    return hash_password(password)


@dataclass(frozen=True)
class DemoCandidate:
    student_no: str
    id_number: str
    name: str

    @property
    def password(self) -> str:
        return default_password(self.id_number)


DEMO_CANDIDATES = (
    DemoCandidate("2024000001", "110101199001011234", "张三"),
    DemoCandidate("2024000002", "11010519851212002x", "李四"),  # stored ...002X, password 12002X
    DemoCandidate("2024000003", "A123456(7)", "陈大文"),  # Hong Kong ID, password 123456
)


@dataclass(frozen=True)
class DemoInfo:
    exam_id: str
    center_id: str
    username: str  # the first candidate's student number
    password: str
    admin_username: str
    admin_password: str
    candidates: tuple[DemoCandidate, ...]
    start_ms: int
    end_ms: int
    start_code: str = ""  # opens the paper on a PC with no network (docs/offline.md)
    proctor_name: str = DEMO_PROCTOR_NAME
    proctor_password: str = DEMO_PROCTOR_PASSWORD
    proctor_secret: str = ""  # makes second-login authorization codes


def install_demo(
    *,
    settings: ServerSettings,
    db: Database,
    keys: ServerKeys,
    clock: Clock,
    start_in_s: float,
    duration_s: float,
    paper_source: Path | None = None,
    admin_password: str | None = None,
) -> DemoInfo:
    """Create (or refresh) the demo data; the demo exam starts *start_in_s* from now."""
    db.upsert_center(center_id=DEMO_CENTER_ID, name=DEMO_CENTER_NAME, allowed_ips=[])
    from server.center_address import set_center_address

    set_center_address(db, center_id=DEMO_CENTER_ID, address=DEMO_CENTER_ADDRESS)
    admin_password = admin_password or secrets.token_urlsafe(9)
    db.upsert_admin(
        username=DEMO_ADMIN_USERNAME,
        password_hash=hash_admin_password(admin_password),
        center_id=DEMO_CENTER_ID,
        real_name=DEMO_ADMIN_NAME,
    )
    start_ms = clock.now_ms() + int(start_in_s * 1000)
    end_ms = start_ms + int(duration_s * 1000)
    import_paper(
        settings=settings,
        db=db,
        keys=keys,
        source_path=paper_source or demo_paper_source(),
        exam_id=DEMO_EXAM_ID,
        title=None,
        start_ms=start_ms,
        end_ms=end_ms,
        replace=True,
    )
    for person in DEMO_CANDIDATES:
        candidate_id, _created = upsert_candidate(
            db,
            student_no=person.student_no,
            id_number=person.id_number,
            name=person.name,
            center_id=DEMO_CENTER_ID,
            hasher=_demo_password_hash,
        )
        db.register(exam_id=DEMO_EXAM_ID, candidate_id=candidate_id)
    # A demo proctor, so that proctor mode (Ctrl+Alt+Shift+P) can be tried.
    from server.proctors import add_proctor

    add_proctor(db, exam_id=DEMO_EXAM_ID, name=DEMO_PROCTOR_NAME, now_ms=clock.now_ms(),
                password=DEMO_PROCTOR_PASSWORD)
    # The package's offline login and proctor verifiers list who is registered: rebuild it.
    refresh_package(settings=settings, db=db, keys=keys, exam_id=DEMO_EXAM_ID)
    codes = ensure_exam_secrets(db, keys, DEMO_EXAM_ID)
    # The invigilation console's demo accounts and the demo candidates' seats.
    from server.console.demo_room import install_demo_room

    install_demo_room(db, exam_id=DEMO_EXAM_ID, center_id=DEMO_CENTER_ID,
                      student_nos=[c.student_no for c in DEMO_CANDIDATES],
                      now_ms=clock.now_ms(), hasher=_demo_password_hash)
    first = DEMO_CANDIDATES[0]
    return DemoInfo(
        exam_id=DEMO_EXAM_ID,
        center_id=DEMO_CENTER_ID,
        username=first.student_no,
        password=first.password,
        admin_username=DEMO_ADMIN_USERNAME,
        admin_password=admin_password,
        candidates=DEMO_CANDIDATES,
        start_ms=start_ms,
        end_ms=end_ms,
        start_code=codes.start_code,
        proctor_secret=codes.proctor_secret,
    )


def install_exam_day_rules(*, settings: ServerSettings, db: Database, keys: ServerKeys,
                           clock: Clock, proctor_face_match: bool) -> None:
    """The exam-day rules of the demo exam (issue 22), for ``exam-client demo``: the
    required pledge, and the demo proctor by real name (ID number and photo; the photo's
    face embedding is real inference), on the exam PC and in the console. With
    *proctor_face_match* unlocking proctor mode also needs the proctor's face in front of
    the camera. Not part of ``install_demo``:
    the tests that log in to a demo server expect the waiting room right after login."""
    from client.paper.exam_rules import Pledge
    from server.pledges import set_pledge
    from server.proctors import add_proctor, set_face_match

    set_pledge(db, exam_id=DEMO_EXAM_ID, now_ms=clock.now_ms(),
               pledge=Pledge(text_zh=DEMO_PLEDGE_ZH, text_en=DEMO_PLEDGE_EN))
    add_proctor(db, exam_id=DEMO_EXAM_ID, name=DEMO_PROCTOR_NAME, now_ms=clock.now_ms(),
                password=DEMO_PROCTOR_PASSWORD, id_number=DEMO_PROCTOR_ID_NUMBER,
                photo=demo_proctor_photo().read_bytes(), keys=keys)
    set_face_match(db, exam_id=DEMO_EXAM_ID, required=proctor_face_match)
    # The same person's console account by real name too (the console header shows it).
    from server.console.demo_room import DEMO_PROCTOR_USERNAME
    from server.console.identity import set_real_name

    set_real_name(db, keys, username=DEMO_PROCTOR_USERNAME, id_number=DEMO_PROCTOR_ID_NUMBER,
                  photo=demo_proctor_photo().read_bytes())
    # The rules and the proctor's card travel in the signed package: sign a new one.
    refresh_package(settings=settings, db=db, keys=keys, exam_id=DEMO_EXAM_ID)
