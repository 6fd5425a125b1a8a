"""The Python blocks of the README and of docs/python.md run as written, in order, in one namespace per page."""

from __future__ import annotations

import pathlib
import re
from typing import Any, Dict

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def run_python_blocks(page: pathlib.Path, at_least: int) -> None:
    """Runs every ```python block of `page`, in order, in one namespace."""
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    assert len(blocks) >= at_least
    namespace: Dict[str, Any] = {}
    for i, block in enumerate(blocks):
        if block.startswith("# file: "):
            continue  # a file of the user's own project (a Django wsgi.py), not a step
        exec(compile(block, f"{page}:block{i}", "exec"), namespace)


def test_every_python_block_of_the_readme_runs() -> None:
    run_python_blocks(README, 3)


DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs" / "python.md"


def test_every_python_block_of_the_reference_runs() -> None:
    run_python_blocks(DOCS, 2)
