"""The stubs: they match the Rust signatures (stubcheck.py) and the native module
(mypy.stubtest), they type a real program
under `mypy --strict` (typing_check.py and the Flask shop), and they refuse what the
package refuses (typing_misuse.py)."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
from typing import List

import affiliate_sdk

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SHOP = ROOT / "examples" / "python-shop"


def mypy(args: List[str], cache: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_the_wheel_ships_its_stubs_and_marker() -> None:
    package = pathlib.Path(affiliate_sdk.__file__).parent
    # The installed wheel is tested, not the source tree.
    assert package.parent.name == "site-packages", package
    assert (package / "py.typed").exists()
    assert (package / "_native.pyi").exists()


def test_the_stubs_match_the_rust_signatures() -> None:
    """Every class, method, property and function of `src/*.rs` has its stub with the
    same parameters, keyword-only ones and defaults (`stubcheck.py`, read from the
    source: it names the Rust line to fix)."""
    r = subprocess.run(
        [sys.executable, str(HERE.parent / "stubcheck.py")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "stubs match the Rust source" in r.stdout


def test_stubs_match_the_native_module(tmp_path: pathlib.Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "affiliate_sdk", "--mypy-config-file", "/dev/null",
         "--allowlist", str(HERE / "stubtest-allowlist.txt")],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # the installed package, not a source tree
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_examples_and_the_stub_test_pass_mypy_strict(tmp_path: pathlib.Path) -> None:
    files = [str(HERE / "typing_check.py")] + [
        str(SHOP / name) for name in ("shop.py", "test_shop.py", "load.py", "test_gunicorn.py", "bench.py")
    ]
    r = mypy(["--strict", *files], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    # The package's own Python (the middleware, the types), as installed.
    r = mypy(["--strict", "-p", "affiliate_sdk"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_misuse_is_a_type_error_on_every_marked_line(tmp_path: pathlib.Path) -> None:
    source = (HERE / "typing_misuse.py").read_text().splitlines()
    marked = {i + 1 for i, line in enumerate(source) if line.rstrip().endswith("# E")}
    assert len(marked) >= 5
    r = mypy(["--strict", str(HERE / "typing_misuse.py")], tmp_path)
    flagged = {
        int(m.group(1)) for m in re.finditer(r"typing_misuse\.py:(\d+): error", r.stdout)
    }
    assert flagged == marked, r.stdout
