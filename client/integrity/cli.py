"""`exam-client check`: print the integrity verdict; optionally record the snapshot.

Exit code 0 = nothing found, 1 = warnings only, 2 = something blocks the exam,
3 = the snapshot file given with --snapshot is unreadable or does not match the schema.
`--dump-snapshot FILE` writes what the collectors saw, so support can turn a report from
a real PC into a test fixture (docs/integrity.md); `--snapshot FILE` re-evaluates such a
file instead of collecting (reproduce a report on any machine).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from client.i18n import _
from client.integrity.collector import Collector, SelectedCamera, platform_collector
from client.integrity.evaluate import evaluate
from client.integrity.findings import verdict
from client.integrity.messages import describe, describe_verdict, severity_label
from client.integrity.rules import Rules, builtin_rules
from client.integrity.snapshot import Snapshot

EXIT_CODES = {"ok": 0, "warn": 1, "block": 2}
EXIT_BAD_SNAPSHOT = 3


def run_check(
    *,
    dump_snapshot: Path | None,
    as_json: bool,
    snapshot_file: Path | None = None,
    rules: Rules | None = None,
    collector: Collector | None = None,
    out: TextIO | None = None,
    selected_camera: SelectedCamera = None,
) -> int:
    stream = out if out is not None else sys.stdout
    active_rules = rules if rules is not None else builtin_rules()
    if snapshot_file is not None:
        try:
            snapshot = Snapshot.loads(snapshot_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            # A typo in a hand-edited file is an error, never an empty (passing) snapshot.
            stream.write(_("检测快照文件 {path} 无法使用：{error}").format(
                path=snapshot_file, error=exc) + "\n")
            return EXIT_BAD_SNAPSHOT
    else:
        source = collector if collector is not None else platform_collector(
            rules=active_rules, selected_camera=selected_camera)
        source.set_rules(active_rules)
        snapshot = source.snapshot()
    if dump_snapshot is not None:
        dump_snapshot.write_text(snapshot.dumps() + "\n", encoding="utf-8")
    findings = evaluate(snapshot, active_rules)
    result = verdict(findings)
    if as_json:
        json.dump(
            {
                "verdict": result,
                "rules_version": active_rules.version,
                "rules_source": active_rules.source,
                "findings": [dict(f.to_json(), message=describe(f)) for f in findings],
                "collector_errors": list(snapshot.errors),
            },
            stream, ensure_ascii=False, indent=2,
        )
        stream.write("\n")
    else:
        for finding in findings:
            stream.write(f"[{finding.code} {severity_label(finding)}] {describe(finding)}\n")
            for line in finding.evidence:
                stream.write(f"    {_('证据')}: {line}\n")
        stream.write(describe_verdict(result) + "\n")
        stream.write(
            _("检测规则版本 {version}（{source}）").format(
                version=active_rules.version,
                source=_("内置") if active_rules.source == "builtin" else _("考试服务器"),
            ) + "\n")
        for error in snapshot.errors:
            stream.write(f"    {_('无法读取')}: {error}\n")
        if dump_snapshot is not None:
            stream.write(_("检测数据已保存到 {path}").format(path=dump_snapshot) + "\n")
    return EXIT_CODES[result]


def main(argv: list[str] | None = None) -> int:
    """`python -m client.integrity.cli` (the lead wires the same to `exam-client check`)."""
    parser = argparse.ArgumentParser(prog="exam-client check")
    parser.add_argument("--dump-snapshot", type=Path, metavar="FILE")
    parser.add_argument("--snapshot", type=Path, metavar="FILE",
                        help="evaluate a recorded snapshot instead of this PC")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return run_check(dump_snapshot=args.dump_snapshot, as_json=args.json,
                     snapshot_file=args.snapshot)


if __name__ == "__main__":
    raise SystemExit(main())
