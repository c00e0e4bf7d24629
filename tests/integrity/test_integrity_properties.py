"""Property tests (hypothesis) for matching and allow entries."""

from __future__ import annotations

import dataclasses
import fnmatch
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integrity_fixtures import fixture_names, load_case

from client.integrity.evaluate import evaluate
from client.integrity.rules import AllowEntry, builtin_rules
from client.integrity.snapshot import ProcessInfo, Snapshot

RULES = builtin_rules()
EXACT_NAMES = sorted(p for t in RULES.tools for p in t.processes if "*" not in p)
CASES = {n: load_case(n) for n in fixture_names()}
BASE = load_case("fp_clean_lab_pc").snapshot


def random_case(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c.lower()
                   for c, flip in zip(text, flips + [False] * len(text), strict=False))


@settings(deadline=None)
@given(name=st.sampled_from(EXACT_NAMES), flips=st.lists(st.booleans(), max_size=40),
       as_original=st.booleans())
def test_matching_is_case_insensitive(name: str, flips: list[bool], as_original: bool) -> None:
    variant = random_case(name, flips)
    assert RULES.tool_for_process_name(variant) is RULES.tool_for_process_name(name)
    proc = (ProcessInfo(pid=4242, name="renamed.exe", original_filename=variant) if as_original
            else ProcessInfo(pid=4242, name=variant))
    snapshot = dataclasses.replace(BASE, processes=(*BASE.processes, proc))
    tool = RULES.tool_for_process_name(name)
    assert tool is not None
    assert tool.id in {f.subject for f in evaluate(snapshot, RULES)}


# Benign names: common Windows/lab programs, random identifiers, and tool names with
# something glued on (exact-name semantics: "MyAnyDesk.exe" is another program).
BENIGN_WORDS = ["chrome", "explorer", "svchost", "winword", "excel", "powerpnt", "wps",
                "python", "code", "notepad", "wechat", "dingtalk", "360tray", "qqpctray",
                "baidunetdisk", "steam", "acrord32", "mspaint", "calc", "taskmgr"]
identifier = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1,
                     max_size=24)
benign_name = st.one_of(
    st.builds(lambda w, n: f"{w}{n}.exe", st.sampled_from(BENIGN_WORDS),
              st.integers(0, 999).map(lambda i: "" if i == 0 else str(i))),
    identifier.map(lambda s: f"{s}.exe"),
    st.builds(lambda prefix, name: prefix + name, identifier, st.sampled_from(EXACT_NAMES)),
    st.builds(lambda name, suffix: name.removesuffix(".exe") + suffix + ".exe",
              st.sampled_from(EXACT_NAMES), identifier),
)


GLOBS = [p for t in RULES.tools for p in t.processes if "*" in p]
EXACT = {p.casefold() for p in EXACT_NAMES}


def on_the_list(name: str) -> bool:
    """Independent oracle (set membership + fnmatch), not the matcher under test: a draw
    that really is a listed tool name is not benign and is skipped."""
    key = name.strip().casefold()
    return key in EXACT or any(fnmatch.fnmatchcase(key, g) for g in GLOBS)


@settings(suppress_health_check=[HealthCheck.filter_too_much], deadline=None)
@given(names=st.lists(benign_name.filter(lambda n: not on_the_list(n)), min_size=1,
                      max_size=30))
def test_random_benign_process_names_never_match(names: list[str]) -> None:
    procs = tuple(ProcessInfo(pid=10_000 + i, name=n, original_filename=n)
                  for i, n in enumerate(names))
    snapshot = dataclasses.replace(BASE, processes=(*BASE.processes, *procs))
    assert evaluate(snapshot, RULES) == []
    assert all(RULES.tool_for_process_name(n) is None for n in names)


allow_entries = st.one_of(
    st.builds(AllowEntry, name=identifier, original_filename=identifier, signer=identifier),
    st.builds(AllowEntry, machine_id=identifier,
              checks=st.frozensets(st.sampled_from(sorted(RULES.enabled_checks)))),
)


@st.composite
def allow_from_snapshot(draw: st.DrawFn, snapshot: Snapshot) -> AllowEntry:
    """An allow entry copied from a process in the snapshot (the interesting case)."""
    if not snapshot.processes:
        return draw(allow_entries)
    proc = draw(st.sampled_from(snapshot.processes))
    return AllowEntry(name=proc.name or "x", original_filename=proc.original_filename or "x",
                      signer=proc.signer or draw(identifier))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), case_name=st.sampled_from(sorted(CASES)))
def test_adding_an_allow_entry_never_adds_a_finding(data: st.DataObject, case_name: str) -> None:
    case = CASES[case_name]
    rules = case.rules(RULES)
    before = {f.key for f in evaluate(case.snapshot, rules)}
    entries = data.draw(st.lists(st.one_of(allow_entries, allow_from_snapshot(case.snapshot)),
                                 min_size=1, max_size=4))
    after = {f.key for f in evaluate(case.snapshot, rules.with_allow(entries))}
    assert after <= before
