"""build.spec runs as PyInstaller runs it, with PyInstaller's build steps recorded instead
of executed (the real frozen build is tools/build_frozen.py in CI): two executables in one
folder, no UPX, the trimming keeps what the client needs and drops the rest."""

from __future__ import annotations

import inspect
import re
import sys
import tomllib
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PyInstaller.building.build_main import Analysis

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build.spec"
QT = Path(__import__("PySide6").__file__).parent / "Qt"


def plugin(folder: str, name: str) -> tuple[str, str, str]:
    source = QT / "plugins" / folder / name
    assert source.is_file(), source
    return (f"PySide6/Qt/plugins/{folder}/{name}", str(source), "BINARY")


class Recorded:
    """Stands in for one of PyInstaller's build steps and keeps its arguments."""

    calls: ClassVar[list[Recorded]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs
        Recorded.calls.append(self)


def run_spec(binaries: list[tuple[str, str, str]],
             datas: list[tuple[str, str, str]]) -> dict[str, Any]:
    Recorded.calls = []

    class RecordedAnalysis(Recorded):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # The spec must call Analysis with arguments PyInstaller's Analysis accepts.
            inspect.signature(Analysis.__init__).bind(None, *args, **kwargs)
            super().__init__(*args, **kwargs)
            self.binaries, self.datas = list(binaries), list(datas)
            self.pure, self.scripts = [], []

    namespace: dict[str, Any] = {
        "SPECPATH": str(ROOT), "__name__": "__main__", "Analysis": RecordedAnalysis,
        "PYZ": type("PYZ", (Recorded,), {}), "EXE": type("EXE", (Recorded,), {}),
        "COLLECT": type("COLLECT", (Recorded,), {}),
    }
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    namespace["recorded"] = list(Recorded.calls)
    return namespace


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    binaries = [
        plugin("platforms", "libqxcb.so"),
        plugin("platforms", "libqoffscreen.so"),
        plugin("platforms", "libqwayland.so"),
        plugin("platformthemes", "libqgtk3.so"),
        plugin("imageformats", "libqjpeg.so"),
        plugin("imageformats", "libqtiff.so"),
        plugin("tls", "libqopensslbackend.so"),
    ]
    datas = [
        ("PySide6/Qt/translations/qtbase_zh_CN.qm", "x", "DATA"),
        ("PySide6/Qt/translations/qtbase_de.qm", "x", "DATA"),
        ("cv2/data/haarcascade_frontalface_default.xml", "x", "DATA"),
        ("resources/models/face_landmarker.task", "x", "DATA"),
        ("resources/integrity/sign_rules.py", "x", "DATA"),
    ]
    return run_spec(binaries, datas)


def steps(spec: dict[str, Any], kind: str) -> list[Recorded]:
    return [call for call in spec["recorded"] if type(call).__name__.endswith(kind)]


def test_two_executables_share_one_folder(spec: dict[str, Any]) -> None:
    exes = steps(spec, "EXE")
    assert [(e.kwargs["name"], e.kwargs["console"]) for e in exes] == [
        ("ExamClient", False), ("ExamClient-console", True)]
    assert all(e.kwargs["upx"] is False and e.kwargs["exclude_binaries"] for e in exes)
    [collect] = steps(spec, "COLLECT")
    assert collect.args[:2] == tuple(exes)
    assert collect.kwargs["name"] == "ExamClient" and collect.kwargs["upx"] is False


def test_analysis_entry_resources_and_exclusions(spec: dict[str, Any]) -> None:
    [analysis] = steps(spec, "Analysis")
    assert analysis.args[0] == [str(ROOT / "client" / "__main__.py")]
    assert (str(ROOT / "resources"), "resources") in analysis.kwargs["datas"]
    assert any(dest == "mediapipe/tasks/c" for _src, dest in analysis.kwargs["binaries"])
    excludes = set(analysis.kwargs["excludes"])
    assert {"matplotlib", "tkinter", "PySide6.QtQml", "PySide6.QtQuick"} <= excludes
    # The single-instance guard (client/ui/single_instance.py) needs QtNetwork; the
    # watermark's Chinese line needs Pillow: both must be in the bundle.
    assert "PySide6.QtNetwork" not in excludes
    assert "PIL" not in excludes and "PIL.ImageFont" not in excludes
    assert "client.ui.readiness_screen" in analysis.kwargs["hiddenimports"]
    # The demo server's routers are imported by name (server/app.py).
    assert "server.readiness" in analysis.kwargs["hiddenimports"]
    # Frozen diagnostics read component versions from package metadata.
    metadata = {dest for _src, dest in analysis.kwargs["datas"] if dest.endswith(".dist-info")}
    for name in ("PySide6_Essentials", "sqlcipher3", "mediapipe", "psutil"):
        assert any(dest.lower().startswith(name.lower() + "-") for dest in metadata), name
    # OpenCV's: whichever headless wheel this environment has (the release lock: main).
    assert any(dest.lower().startswith(("opencv_python_headless-",
                                        "opencv_contrib_python_headless-"))
               for dest in metadata)
    assert any(hook.endswith("rth_matplotlib_absent.py")
               for hook in analysis.kwargs["runtime_hooks"])


def test_trimming(spec: dict[str, Any]) -> None:
    analysis = steps(spec, "Analysis")[0]
    kept = {dest for dest, _src, _kind in analysis.binaries + analysis.datas}
    assert "PySide6/Qt/plugins/platforms/libqxcb.so" in kept
    assert "PySide6/Qt/plugins/platforms/libqoffscreen.so" in kept
    assert "PySide6/Qt/plugins/imageformats/libqjpeg.so" in kept
    assert "PySide6/Qt/translations/qtbase_zh_CN.qm" in kept
    assert "resources/models/face_landmarker.task" in kept
    for dropped in ("PySide6/Qt/plugins/platforms/libqwayland.so",
                    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
                    "PySide6/Qt/plugins/imageformats/libqtiff.so",
                    "PySide6/Qt/plugins/tls/libqopensslbackend.so",
                    "PySide6/Qt/translations/qtbase_de.qm",
                    "cv2/data/haarcascade_frontalface_default.xml",
                    "resources/integrity/sign_rules.py"):
        assert dropped not in kept, dropped


def test_libraries_only_dropped_plugins_needed_go_too(tmp_path: Path) -> None:
    """libqgtk3 links GTK; with the plugin gone, GTK must not stay in the bundle, while a
    library the kept xcb plugin links (libxcb) stays."""
    from PyInstaller.depend.bindepend import get_imports

    gtk_theme, xcb = plugin("platformthemes", "libqgtk3.so"), plugin("platforms", "libqxcb.so")
    gtk_deps = {Path(path).name: path for name, path in get_imports(gtk_theme[1]) if path}
    xcb_deps = {Path(path).name: path for name, path in get_imports(xcb[1]) if path}
    only_gtk = sorted(set(gtk_deps) - set(xcb_deps))
    shared = sorted(set(gtk_deps) & set(xcb_deps))
    if not only_gtk or not shared:
        pytest.skip("GTK or xcb libraries not installed on this machine")
    libraries = [(name, gtk_deps[name], "BINARY") for name in only_gtk + shared]
    spec = run_spec([gtk_theme, xcb, *libraries], [])
    kept = {dest for dest, _src, _kind in steps(spec, "Analysis")[0].binaries}
    assert not kept & set(only_gtk)
    assert set(shared) <= kept


def test_windows_version_information_comes_from_pyproject(spec: dict[str, Any]) -> None:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    assert spec["VERSION_STRINGS"]["ProductVersion"] == version
    assert spec["VERSION_STRINGS"]["FileVersion"] == version
    assert spec["version_numbers"]("0.1.0") == (0, 1, 0, 0)
    assert spec["version_numbers"]("1.2.3.4") == (1, 2, 3, 4)
    assert spec["version_resource"]() is None  # only built on Windows (below)


@pytest.mark.skipif(sys.platform != "win32", reason="PyInstaller's versioninfo is Windows-only")
def test_windows_version_resource(spec: dict[str, Any]) -> None:
    resource = spec["version_resource"]()
    major, minor, patch, build = spec["version_numbers"](spec["VERSION"])
    assert resource.ffi.fileVersionMS == (major << 16) | minor
    assert resource.ffi.fileVersionLS == (patch << 16) | build
    assert f"'ProductVersion', '{spec['VERSION']}'" in str(resource)


def test_symlinks_to_trimmed_libraries_are_dropped() -> None:
    wayland = plugin("platforms", "libqwayland.so")
    xcb = plugin("platforms", "libqxcb.so")
    datas = [("libqwayland.so", "PySide6/Qt/plugins/platforms/libqwayland.so", "SYMLINK"),
             ("libqxcb.so", "PySide6/Qt/plugins/platforms/libqxcb.so", "SYMLINK")]
    spec = run_spec([wayland, xcb], datas)
    kept = {dest for dest, _src, _kind in steps(spec, "Analysis")[0].datas}
    assert kept == {"libqxcb.so"}


def test_the_executables_and_the_installer_use_the_program_icon(spec: dict[str, Any]) -> None:
    """ExamClient.exe once kept PyInstaller's default icon (only the installer had ours)."""
    from PIL import Image

    icon = ROOT / "resources" / "icons" / "exam-client.ico"
    assert spec["executable_icon"](windows=True) == str(icon)
    assert spec["executable_icon"](windows=False) is None  # PyInstaller ignores it on Linux
    assert [e.kwargs["icon"] for e in steps(spec, "EXE")] == [
        spec["executable_icon"]()] * 2
    with Image.open(icon) as image:
        assert image.format == "ICO"
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(image.info["sizes"])
    # installer/exam-client.nsi: its default ICON, relative to the script, is the same file
    nsi = (ROOT / "installer" / "exam-client.nsi").read_text(encoding="utf-8")
    [default] = re.findall(r'!define ICON "([^"]+)"', nsi)
    assert (ROOT / "installer" / default.replace("\\", "/")).resolve() == icon


def _vendored(package_libs: str, prefix: str) -> Path:
    """A library an installed wheel vendors (auditwheel), e.g. numpy.libs/libgfortran-*."""
    site = Path(__import__("numpy").__file__).parents[1]
    found = sorted((site / package_libs).glob(f"{prefix}-*"))
    assert found, f"{package_libs}/{prefix}-* not installed"
    return found[0]


def _shift_second_load_segment(library: Path) -> None:
    """Move the file offset of the second LOAD program header by 16 bytes: the layout a
    plain strip gives some patchelf-rewritten libraries (not loadable)."""
    import struct

    data = bytearray(library.read_bytes())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads = [phoff + i * phentsize for i in range(phnum)
             if struct.unpack_from("<I", data, phoff + i * phentsize)[0] == 1]
    offset, = struct.unpack_from("<Q", data, loads[1] + 8)
    struct.pack_into("<Q", data, loads[1] + 8, offset + 16)
    library.write_bytes(bytes(data))


@pytest.mark.skipif(sys.platform != "linux", reason="ELF libraries, binutils")
def test_a_stripped_library_is_kept_only_with_a_loadable_layout(
        spec: dict[str, Any], tmp_path: Path) -> None:
    """PyInstaller's strip once broke auditwheel-patched libraries ("ELF load command
    address/offset not page-aligned"); the spec now strips them too, into a copy that
    replaces the library only when the loader's layout check passes."""
    import ctypes
    import shutil

    openblas = _vendored("numpy.libs", "libscipy_openblas64_")
    freetype = _vendored("pillow.libs", "libfreetype")
    assert spec["loadable_layout"](openblas) and spec["loadable_layout"](freetype)
    misaligned = tmp_path / openblas.name
    shutil.copyfile(openblas, misaligned)
    _shift_second_load_segment(misaligned)
    assert not spec["loadable_layout"](misaligned)

    bundle = tmp_path / "_internal"
    (bundle / "numpy.libs").mkdir(parents=True)
    shutil.copy2(openblas, bundle / "numpy.libs" / openblas.name)
    shutil.copytree(freetype.parent, bundle / "pillow.libs")  # with what FreeType links
    spec["strip_debug_information"](bundle)
    stripped_openblas = bundle / "numpy.libs" / openblas.name
    stripped_freetype = bundle / "pillow.libs" / freetype.name
    # NumPy's OpenBLAS: stripping breaks its layout, so it stays byte for byte as shipped
    assert stripped_openblas.read_bytes() == openblas.read_bytes()
    # Pillow's FreeType: smaller, no symbols left, and it still loads
    assert stripped_freetype.stat().st_size < freetype.stat().st_size
    assert not spec["carries_symbols"](stripped_freetype)
    ctypes.CDLL(str(stripped_freetype))


@pytest.mark.skipif(sys.platform != "linux", reason="ELF libraries, binutils")
def test_one_copy_of_the_fortran_runtime_serves_numpy_and_opencv(
        spec: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    gfortran = _vendored("numpy.libs", "libgfortran")
    quadmath = _vendored("numpy.libs", "libquadmath")
    numpy_libs, opencv_libs = tmp_path / "numpy.libs", tmp_path / "opencv_x.libs"
    numpy_libs.mkdir()
    opencv_libs.mkdir()
    shutil.copy2(gfortran, numpy_libs / "libgfortran-040039e1-0352e75f.so.5.0.0")
    shutil.copy2(gfortran, opencv_libs / "libgfortran-83c28eba.so.5.0.0")
    shutil.copy2(quadmath, numpy_libs / "libquadmath-96973f99-934c22de.so.0.0.0")
    # a library that defines other symbol versions is never replaced
    shutil.copy2(gfortran, opencv_libs / "libquadmath-2284e583.so.0.0.0")
    spec["share_vendored_runtimes"](tmp_path)
    linked = opencv_libs / "libgfortran-83c28eba.so.5.0.0"
    assert linked.is_symlink()
    assert linked.resolve() == (numpy_libs / "libgfortran-040039e1-0352e75f.so.5.0.0")
    assert not (opencv_libs / "libquadmath-2284e583.so.0.0.0").is_symlink()
    assert not (numpy_libs / "libquadmath-96973f99-934c22de.so.0.0.0").is_symlink()


def test_interactive_line_editing_is_left_out(spec: dict[str, Any]) -> None:
    [analysis] = steps(spec, "Analysis")
    assert "readline" in analysis.kwargs["excludes"]
