"""The demo's room: console accounts, a seating plan, and simulated candidates.

``install_demo_room`` gives every demo server a console worth opening: a proctor of room
第1考场 and the center's chief examiner with printed demo passwords, and the demo
candidates seated. ``RoomSimulator`` (used by ``exam-client demo`` only) adds more seats
whose candidates log in and answer over real HTTP, as the benchmark's load generator
does, so the tiles move while a person watches.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from server.candidates import upsert_candidate
from server.console.accounts import create_account
from server.console.roles import Role
from server.console.seating import SeatRow, assign
from server.db import Database
from server.passwords import default_password

log = logging.getLogger(__name__)

DEMO_ROOM = "第1考场"
DEMO_PROCTOR_USERNAME = "jiankao"
DEMO_CHIEF_USERNAME = "zhukao"
DEMO_CONSOLE_PASSWORD = "kaowu2026"  # demo only: printed on the demo's console line


@dataclass(frozen=True)
class DemoConsole:
    proctor_username: str = DEMO_PROCTOR_USERNAME
    chief_username: str = DEMO_CHIEF_USERNAME
    password: str = DEMO_CONSOLE_PASSWORD
    room: str = DEMO_ROOM


def install_demo_room(db: Database, *, exam_id: str, center_id: str, student_nos: list[str],
                      now_ms: int, hasher: Callable[[str], str]) -> DemoConsole:
    create_account(db, username=DEMO_PROCTOR_USERNAME, display_name="王老师",
                   role=Role.PROCTOR, center_id=center_id, room=DEMO_ROOM,
                   password=DEMO_CONSOLE_PASSWORD, now_ms=now_ms, hasher=hasher)
    create_account(db, username=DEMO_CHIEF_USERNAME, display_name="李主考", role=Role.CHIEF,
                   center_id=center_id, room=None, password=DEMO_CONSOLE_PASSWORD,
                   now_ms=now_ms, hasher=hasher)
    assign(db, exam_id=exam_id, rows=[SeatRow(candidate=no, room=DEMO_ROOM, seat=str(i))
                                      for i, no in enumerate(student_nos, start=1)])
    return DemoConsole()


_SURNAMES = "赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施孔曹严华金魏陶姜"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"


@dataclass(frozen=True)
class SimulatedCandidate:
    student_no: str
    id_number: str
    name: str

    @property
    def password(self) -> str:
        return default_password(self.id_number)


def add_simulated_candidates(db: Database, *, exam_id: str, center_id: str, count: int,
                             first_seat: int, hasher: Callable[[str], str],
                             ) -> list[SimulatedCandidate]:
    """Register *count* made-up candidates and seat them after the demo candidates."""
    rng = random.Random(2026)
    made = []
    for n in range(count):
        person = SimulatedCandidate(
            student_no=f"20249{n:05d}", id_number=f"11010120000101{n:04d}",
            name=rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN))
        candidate_id, _created = upsert_candidate(
            db, student_no=person.student_no, id_number=person.id_number, name=person.name,
            center_id=center_id, hasher=hasher)
        db.register(exam_id=exam_id, candidate_id=candidate_id)
        made.append(person)
    assign(db, exam_id=exam_id, rows=[
        SeatRow(candidate=p.student_no, room=DEMO_ROOM, seat=str(first_seat + i))
        for i, p in enumerate(made)])
    return made


class RoomSimulator:
    """Simulated candidates that log in and answer through the real HTTP API.

    Most log in at once; a few come late, one never comes, one stops talking halfway (a
    PC that lost its network), and one logs in again from a second PC and is held for the
    chief examiner, so that every tile state and the approval flow can be seen.
    """

    def __init__(self, *, api_url: str, candidates: list[SimulatedCandidate],
                 choices: dict[str, list[Any]], start_ms: int,
                 now_ms: Callable[[], int]) -> None:
        self._api = api_url.rstrip("/")
        self._candidates = candidates
        self._choices = choices  # question id -> values a candidate might give
        self._start_ms = start_ms
        self._now_ms = now_ms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="room-simulator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        rng = random.Random(7)
        tokens: dict[str, str] = {}
        revisions: dict[tuple[str, str], int] = {}
        absent = self._candidates[-1].student_no if self._candidates else ""
        silent = self._candidates[0].student_no if self._candidates else ""
        tick = 0
        while not self._stop.wait(2.0):
            tick += 1
            for person in self._candidates:
                if person.student_no == absent or self._stop.is_set():
                    continue
                try:
                    if person.student_no not in tokens:
                        if rng.random() < 0.5 or tick > 5:
                            tokens[person.student_no] = self._log_in(person, pc="a")
                        continue
                    if self._now_ms() < self._start_ms:
                        continue
                    if person.student_no == silent and tick > 30:
                        continue  # this PC lost its network
                    if rng.random() < 0.3:
                        self._answer(tokens[person.student_no], person, rng, revisions)
                except requests.RequestException as exc:
                    log.debug("simulated candidate %s: %s", person.student_no, exc)
            if tick == 20 and len(self._candidates) > 2:
                # A second PC for the second candidate: held until someone approves it.
                try:
                    self._log_in(self._candidates[1], pc="b")
                except requests.RequestException as exc:
                    log.debug("simulated second login: %s", exc)

    def _log_in(self, person: SimulatedCandidate, *, pc: str) -> str:
        response = requests.post(f"{self._api}/login", timeout=10, json={
            "username": person.student_no, "password": person.password,
            "client_id": f"sim-{person.student_no}-{pc}"})
        if response.status_code != 200:
            return ""
        return str(response.json().get("token", ""))

    def _answer(self, token: str, person: SimulatedCandidate, rng: random.Random,
                revisions: dict[tuple[str, str], int]) -> None:
        if not token or not self._choices:
            return
        question = rng.choice(sorted(self._choices))
        key = (person.student_no, question)
        revisions[key] = revisions.get(key, 0) + 1
        requests.post(f"{self._api}/attempt/answers", timeout=10,
                      headers={"Authorization": f"Bearer {token}"},
                      json={"answers": [{"question_id": question, "revision": revisions[key],
                                         "value": rng.choice(self._choices[question]),
                                         "client_time_ms": self._now_ms()}]})


# The demo paper's objective items and plausible answers (resources/demo/paper).
DEMO_CHOICES: dict[str, list[Any]] = {
    "q1": ["A", "B", "C", "D"], "q2": ["A", "B", "C", "D"], "q3": ["A", "B", "C", "D"],
    "q4": [["A", "B"], ["B", "D"], ["A", "C", "D"]], "q5": [True, False], "q6": [True, False],
}


@dataclass
class RunningDemoRoom:
    banner: str
    simulator: RoomSimulator

    def stop(self) -> None:
        self.simulator.stop()


def start_demo_room(server: Any, *, simulated: int = 9) -> RunningDemoRoom:
    """For ``exam-client demo``: more seats with simulated candidates, and the banner that
    tells a person where the console is and how to log in."""
    from client.i18n import _
    from server.demo import _demo_password_hash

    demo = server.demo
    seated = len(demo.candidates)
    people = add_simulated_candidates(server.db, exam_id=demo.exam_id,
                                      center_id=demo.center_id, count=simulated,
                                      first_seat=seated + 1, hasher=_demo_password_hash)
    simulator = RoomSimulator(api_url=server.api(""), candidates=people, choices=DEMO_CHOICES,
                              start_ms=demo.start_ms, now_ms=server.clock.now_ms)
    simulator.start()
    banner = _("考场监控台：{url}/console （监考教师 {proctor} / 主考 {chief}，密码 {password}）"
               ).format(url=server.url, proctor=DEMO_PROCTOR_USERNAME, chief=DEMO_CHIEF_USERNAME,
                        password=DEMO_CONSOLE_PASSWORD)
    return RunningDemoRoom(banner=banner, simulator=simulator)
