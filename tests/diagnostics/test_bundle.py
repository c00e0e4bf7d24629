import json
import zipfile

from client.diagnostics import bundle, scrub
from client.diagnostics.bundle import DiagnosticsInputs
from client.render import sentinel
from client.startup import early

SECRETS = ["hunter2-pass", "eyJhbGciOiJIUzI1NiJ9.payload.sig", "c2VjcmV0LXBhcGVyLWtleQ==",
           "MIIEvQIBADANBg", "s3cr3t-store-key", "110101199003077777"]


def zip_text(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def test_zip_has_everything_support_needs_and_no_secret(tmp_path):
    log = tmp_path / "exam-client.log"
    log.write_text(
        "INFO login ok for 110101199003077777\n"
        "DEBUG POST /login password=hunter2-pass\n"
        "DEBUG Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig\n"
        'DEBUG {"paper_key": "c2VjcmV0LXBhcGVyLWtleQ=="}\n'
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n",
        encoding="utf-8")
    crash = early.write_crash_report(tmp_path / "crash", kind="python", text="Traceback: boom")
    answers = tmp_path / "answers.db"
    answers.write_bytes(b"SQLite format 3\0 secret answers")
    photo = tmp_path / "face.jpg"
    photo.write_bytes(b"\xff\xd8\xff photo")
    state = tmp_path / "state"
    decision = sentinel.choose_level("auto", state)
    sentinel.mark_starting(state, decision)
    config = {
        "Server": {"url": "https://user:hunter2-pass@exam.example/api", "center_id": "C01"},
        "Store": {"store_key": "s3cr3t-store-key"},
        "OpenGL": {"Level": "auto"},
        "tokens": ["eyJhbGciOiJIUzI1NiJ9.payload.sig"],
    }
    out = bundle.build_diagnostics_zip(out=tmp_path / "out", inputs=DiagnosticsInputs(
        log_files=[log, answers], crash_logs=[crash, photo], render_state_dir=state,
        config=config,
        integrity_snapshot=lambda: {"processes": ["explorer.exe"], "session_token": "x"},
        network_test=lambda: 1 / 0,
        gpu_info=lambda: {"gl_renderer": "llvmpipe"},
    ))
    assert out.parent == tmp_path / "out" and out.suffix == ".zip"
    files = zip_text(out)
    assert set(files) == {
        "system.json", "logs/exam-client.log", f"crash/{crash.name}",
        "render/render-history.jsonl", "render/start-sentinel.json", "render/level.json",
        "config.json",
        "integrity.json", "gpu.json", "manifest.json"}
    everything = "\n".join(files.values())
    for secret in SECRETS:
        assert secret not in everything
    assert "110101***********7" in files["logs/exam-client.log"]
    config_out = json.loads(files["config.json"])
    assert config_out["OpenGL"] == {"Level": "auto"}
    assert config_out["Store"]["store_key"] == scrub.REMOVED
    assert config_out["Server"]["url"] == "https://<removed>@exam.example/api"
    assert config_out["tokens"] == scrub.REMOVED
    assert json.loads(files["integrity.json"])["session_token"] == scrub.REMOVED
    manifest = json.loads(files["manifest.json"])
    assert sorted(manifest["refused_files"]) == ["answers.db", "face.jpg"]
    assert manifest["errors"]["network"].startswith("ZeroDivisionError")
    system = json.loads(files["system.json"])
    assert system["versions"]["exam-client"] and system["os"]["system"]
    assert system["versions"]["PySide6-Essentials"]
    assert '"event": "start"' in files["render/render-history.jsonl"]


def test_run_diagnostics_uses_the_client_layout(tmp_path):
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    (log_dir / "exam-client.log").write_text("hello\n", encoding="utf-8")
    (log_dir / "exam-client.log.1").write_text("older\n", encoding="utf-8")
    crash_dir = tmp_path / "crash"
    seen = early.write_crash_report(crash_dir, kind="native", text="Fatal Python error")
    early.mark_reports_seen(early.pending_crash_reports(crash_dir))
    out = bundle.run_diagnostics(out=tmp_path / "d.zip", log_dir=log_dir, crash_dir=crash_dir,
                                 render_state_dir=tmp_path / "state", config={})
    files = zip_text(out)
    assert {"logs/exam-client.log", "logs/exam-client.log.1", f"crash/{seen.name}"} <= set(files)


def test_scrub_text_keeps_ordinary_lines():
    line = "2026-05-01 INFO client.sync: pushed 3 answers in 120 ms (revision 7)"
    assert scrub.scrub_text(line) == line
    assert scrub.scrub_text("token: abc123def") == "token: <removed>"


def test_the_remembered_render_level_and_component_versions_are_in_the_zip(tmp_path):
    """Issue 14: support sees which level this PC starts with and why, and the versions of
    the components (the frozen build ships their metadata)."""
    from client.render.levels import RenderLevel

    state = tmp_path / "render"
    sentinel.remember_level(state, RenderLevel.COMPATIBILITY, reason="white screen at level 2")
    out = bundle.build_diagnostics_zip(
        out=tmp_path / "d.zip",
        inputs=DiagnosticsInputs(render_state_dir=state, config={"OpenGL/Level": "auto"}))
    with zipfile.ZipFile(out) as archive:
        level = json.loads(archive.read("render/level.json"))
        versions = json.loads(archive.read("system.json"))["versions"]
    assert level == {"remembered_level": 1, "name": RenderLevel.COMPATIBILITY.label,
                     "reason": "white screen at level 2", "configured": "auto"}
    for name in ("PySide6-Essentials", "sqlcipher3", "opencv", "mediapipe", "psutil",
                 "pillow"):
        assert versions[name], name
