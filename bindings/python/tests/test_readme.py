"""The README's Python blocks run as written, in order, in one namespace."""

from __future__ import annotations

import pathlib
import re
from typing import Any, Dict

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_every_python_block_of_the_readme_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace: Dict[str, Any] = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{README}:block{i}", "exec"), namespace)


DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs" / "python.md"


def test_every_python_block_of_the_reference_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.S)
    assert len(blocks) >= 1
    namespace: Dict[str, Any] = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOCS}:block{i}", "exec"), namespace)
