"""Config attacks on the server's trust anchors (issue 16, config bypass): how many pass,
before and after the anchors became machine-wide only.

Each attack is a set of ini files a candidate can make (per-user user.ini, ``--config``,
user.ini beside the program, links, BOM and case variants, duplicate sections) or a
careless trusted file (plain http, a CA file the candidate can swap). It passes when the
client's own loader ends up with the attacker's server URL, CA file or signing key, or
with a plain http:// URL nobody allowed. The same attack set runs against this tree and
against the code before the change (``git archive`` of the baseline commit), each in its
own process, and the benchmark prints both counts.

    python benchmarks/config_attacks.py [--baseline COMMIT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROXY_URL = "https://127.0.0.1:8443"
PROXY_KEY = "Y2FuZGlkYXRlJ3Mga2V5"
CENTER = ("[server]\nurl = https://exam.school.edu.cn\nca_file = center-ca.pem\n"
          "signing_public_key = c2Nob29sJ3Mga2V5\n")


@dataclass
class Layout:
    """One PC: the admin-only machine folder and the places a candidate can write."""

    root: Path

    @property
    def machine(self) -> Path:
        return self.root / "ProgramData" / "ExamClient" / "user.ini"

    @property
    def installer(self) -> Path:
        return self.machine.with_name("installer.ini")

    @property
    def exe_dir_ini(self) -> Path:
        return self.root / "portable" / "user.ini"

    @property
    def per_user(self) -> Path:
        return self.root / "Users" / "kaosheng" / "AppData" / "Local" / "ExamClient" / "user.ini"

    @property
    def candidate_dir(self) -> Path:
        return self.root / "Users" / "kaosheng"

    def write(self, path: Path, text: str | bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def candidate_ca(self) -> Path:
        return self.write(self.candidate_dir / "proxy-ca.pem", "candidate CA")

    def center_files(self, text: str = CENTER) -> None:
        self.write(self.machine.with_name("center-ca.pem"), "center CA")
        self.write(self.machine, text)

    def search_path(self, explicit: Path | None = None) -> list[Path]:
        """client.config.loader.config_search_path on this layout."""
        return [*([explicit] if explicit else []), self.exe_dir_ini, self.installer,
                self.machine, self.per_user]


def _proxy_ini(layout: Layout, *, section: str = "[server]", key: str = "url") -> str:
    return (f"{section}\n{key} = {PROXY_URL}\nca_file = {layout.candidate_ca()}\n"
            f"signing_public_key = {PROXY_KEY}\n")


def per_user(layout: Layout) -> Path | None:
    layout.center_files("[server]\ncenter_id = 4401001\n")  # the center set no URL
    layout.write(layout.per_user, _proxy_ini(layout))
    return None


def by_config_flag(layout: Layout) -> Path | None:
    layout.center_files()
    return layout.write(layout.candidate_dir / "my.ini", _proxy_ini(layout))


def exe_dir(layout: Layout) -> Path | None:
    layout.center_files()
    layout.write(layout.exe_dir_ini, _proxy_ini(layout))
    return None


def link_named_like_the_machine_file(layout: Layout) -> Path | None:
    layout.center_files()
    own = layout.write(layout.candidate_dir / "mine.ini", _proxy_ini(layout))
    fake = layout.candidate_dir / "ProgramData" / "ExamClient" / "user.ini"
    fake.parent.mkdir(parents=True)
    fake.symlink_to(own)
    return fake


def link_to_the_machine_file(layout: Layout) -> Path | None:
    """A link to the machine file, given as --config, with the candidate's file below it:
    the link brings only the admin's values."""
    layout.center_files("[server]\ncenter_id = 4401001\n")
    link = layout.candidate_dir / "center.ini"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(layout.machine)
    layout.write(layout.per_user, _proxy_ini(layout))
    return link


def bom_and_upper_case(layout: Layout) -> Path | None:
    layout.center_files("[server]\ncenter_id = 4401001\n")
    layout.write(layout.per_user,
                 b"\xef\xbb\xbf" + _proxy_ini(layout, section="[SERVER]", key="URL").encode())
    return None


def mixed_case_section_in_config(layout: Layout) -> Path | None:
    layout.center_files()
    return layout.write(layout.candidate_dir / "my.ini",
                        b"\xef\xbb\xbf" + _proxy_ini(layout, section="[Server]").encode())


def duplicate_sections(layout: Layout) -> Path | None:
    layout.center_files()
    return layout.write(layout.candidate_dir / "my.ini",
                        "[server]\nurl = https://exam.school.edu.cn\n" + _proxy_ini(layout))


def two_case_variants_of_the_section(layout: Layout) -> Path | None:
    layout.center_files()
    return layout.write(layout.candidate_dir / "my.ini",
                        "[Server]\ncenter_id = 4401001\n" + _proxy_ini(layout))


def plain_http_in_the_machine_file(layout: Layout) -> Path | None:
    """A careless center file: http:// lets anyone on the path rewrite the traffic."""
    layout.center_files("[server]\nurl = http://10.0.0.5:8000\n")
    return None


def upper_case_plain_http(layout: Layout) -> Path | None:
    layout.center_files("[server]\nurl = HTTP://10.0.0.5:8000\n")
    return None


def candidate_allows_plain_http(layout: Layout) -> Path | None:
    layout.center_files("[server]\nurl = http://10.0.0.5:8000\n")
    layout.write(layout.per_user, "[server]\nallow_plain_http = true\n")
    return None


def trusted_file_names_a_writable_ca(layout: Layout) -> Path | None:
    layout.center_files(f"[server]\nurl = https://exam.school.edu.cn\n"
                        f"ca_file = {layout.candidate_ca()}\n")
    return None


def ca_link_in_the_machine_folder(layout: Layout) -> Path | None:
    link = layout.machine.with_name("linked-ca.pem")
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(layout.candidate_ca())
    layout.write(layout.machine, "[server]\nurl = https://exam.school.edu.cn\n"
                 "ca_file = linked-ca.pem\n")
    return None


ATTACKS: dict[str, Callable[[Layout], Path | None]] = {
    "per-user user.ini": per_user,
    "--config my.ini": by_config_flag,
    "user.ini beside the program": exe_dir,
    "--config: a link named like the machine file": link_named_like_the_machine_file,
    "--config: a link to the machine file + per-user ini": link_to_the_machine_file,
    "per-user: BOM, [SERVER], URL": bom_and_upper_case,
    "--config: BOM, [Server]": mixed_case_section_in_config,
    "--config: duplicate [server] sections": duplicate_sections,
    "--config: [Server] and [server]": two_case_variants_of_the_section,
    "machine file: http:// URL": plain_http_in_the_machine_file,
    "machine file: HTTP:// URL (upper case)": upper_case_plain_http,
    "per-user: allow_plain_http = true": candidate_allows_plain_http,
    "machine file: ca_file in a writable folder": trusted_file_names_a_writable_ca,
    "machine folder: ca_file linked to a writable file": ca_link_in_the_machine_folder,
}


def attack_passes(settings: Any, layout: Layout) -> list[str]:
    """What the attacker got: anchors of theirs, or an unencrypted server."""
    got = []
    url = str(settings.get("server/url"))
    if url == PROXY_URL:
        got.append("url")
    if url.lower().startswith("http://"):
        got.append("plain http")
    ca = settings.get("server/ca_file")
    if ca is not None and Path(ca).resolve() == (layout.candidate_dir / "proxy-ca.pem").resolve():
        got.append("ca_file")
    if settings.get("server/signing_public_key") == PROXY_KEY:
        got.append("signing_public_key")
    return got


def evaluate() -> dict[str, list[str]]:
    """Run every attack with the ``client`` package on sys.path (this tree or a baseline)."""
    from client.config import load_settings

    results = {}
    for name, build in ATTACKS.items():
        with tempfile.TemporaryDirectory(prefix="config-attack-") as scratch:
            layout = Layout(Path(scratch))
            explicit = build(layout)
            settings = load_settings(layout.search_path(explicit),
                                     trusted=[layout.installer, layout.machine])
            results[name] = attack_passes(settings, layout)
    return results


def run_tree(tree: Path) -> dict[str, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    output = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--evaluate"],
                            cwd=tree, env=env, capture_output=True, text=True, check=True,
                            timeout=300).stdout
    return dict(json.loads(output.splitlines()[-1]))


def default_baseline() -> str:
    """The commit before the anchors became machine-wide only (allow_plain_http appeared)."""
    introduced = subprocess.run(
        ["git", "log", "--format=%H", "--reverse", "-S", "allow_plain_http", "--",
         "client/config/declarations.py"], cwd=ROOT, capture_output=True, text=True,
        check=True).stdout.split()
    return f"{introduced[0]}^" if introduced else "HEAD"


def baseline_tree(commit: str, into: Path) -> Path:
    archive = into / "baseline.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "archive", commit, "client", "resources"], cwd=ROOT,
                       stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=None, help="commit before the change")
    parser.add_argument("--evaluate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.evaluate:
        print(json.dumps(evaluate()))
        return 0
    baseline = subprocess.run(["git", "rev-parse", args.baseline or default_baseline()],
                              cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="config-attacks-") as scratch:
        before = run_tree(baseline_tree(baseline, Path(scratch)))
    after = run_tree(ROOT)
    width = max(map(len, ATTACKS))
    print(f"{'attack':{width}}  {'before (' + baseline[:12] + ')':34}  after")
    for name in ATTACKS:
        print(f"{name:{width}}  {', '.join(before[name]) or 'stopped':34}  "
              f"{', '.join(after[name]) or 'stopped'}")
    passed_before = sum(1 for got in before.values() if got)
    passed_after = sum(1 for got in after.values() if got)
    print(f"config attacks passing: before {passed_before}/{len(ATTACKS)}, "
          f"after {passed_after}/{len(ATTACKS)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
