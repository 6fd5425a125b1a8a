"""Checks `python/affiliate_sdk/_native.pyi` against the Rust source of the native
module: every class, method, property and function the Rust code exports has its stub,
with the same parameters in the same order, the same keyword-only ones and the same
ones with defaults, and the stubs name nothing the module lacks.

The Rust side is read from `src/*.rs`: `#[pyclass]` structs (their `get_all` fields),
`#[pymethods]` blocks (`#[new]` is `__new__`, `#[getter]` a property,
`#[staticmethod]`/`#[classmethod]`), `#[pyfunction]`s, and each function's
`#[pyo3(signature = (...))]` or, without one, its Rust parameters. mypy's stubtest checks
the stubs against the built module too (`tests/test_typing.py`); this check needs no
build, and names the Rust line to fix.

    python3 bindings/python/stubcheck.py    # exit 1 and a list of differences
"""

from __future__ import annotations

import ast
import os
import re
import sys
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
STUB = os.path.join(HERE, "python", "affiliate_sdk", "_native.pyi")

# (name, keyword_only, has_default); "*args"/"**kwargs" as names with their stars.
Param = Tuple[str, bool, bool]


class Sig:
    def __init__(self, kind: str, params: List[Param], where: str) -> None:
        self.kind = kind  # "method", "static", "class", "property", "new", "function"
        self.params = params
        self.where = where


def split_top(text: str) -> List[str]:
    """Splits `text` at commas outside brackets and strings (a `'` is a lifetime)."""
    parts: List[str] = []
    depth, cur, quote = 0, "", None
    for ch in text:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
            continue
        if ch == '"':
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def from_signature(text: str) -> List[Param]:
    out: List[Param] = []
    kw_only = False
    for p in split_top(text):
        if p == "*":
            kw_only = True
        elif p.startswith("**"):
            out.append((p, False, False))
        elif p.startswith("*"):
            out.append((p, False, False))
            kw_only = True
        else:
            name, _, default = p.partition("=")
            out.append((name.strip(), kw_only, bool(default.strip())))
    return out


def from_rust_params(text: str) -> List[Param]:
    out: List[Param] = []
    for p in split_top(text):
        name = p.split(":")[0].strip().lstrip("&").replace("mut ", "").strip()
        ty = p.partition(":")[2]
        if name in ("self", "slf", "cls", "py", "_py") or "Python<" in ty or name.startswith("&"):
            continue
        out.append((name, False, False))
    return out


def balanced(text: str, start: int) -> int:
    """The index just past the bracket that closes the one at `start`."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unbalanced")


def rust_side() -> Tuple[Dict[str, Dict[str, Sig]], Dict[str, Sig]]:
    classes: Dict[str, Dict[str, Sig]] = {}
    functions: Dict[str, Sig] = {}
    for fname in sorted(os.listdir(SRC)):
        if not fname.endswith(".rs"):
            continue
        path = os.path.join(SRC, fname)
        text = open(path, encoding="utf-8").read()
        line_of = lambda i: f"src/{fname}:{text.count(chr(10), 0, i) + 1}"  # noqa: E731
        for m in re.finditer(r"#\[pyclass\(([^)]*)\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))? )?struct (\w+)", text):
            name = re.search(r'name = "(\w+)"', m.group(1))
            cls = classes.setdefault(name.group(1) if name else m.group(2), {})
            if "get_all" in m.group(1):
                body = text[m.end():balanced(text, text.index("{", m.end()))]
                for f in re.finditer(r"^\s*pub(?:\([^)]*\))? (\w+):", body, re.M):
                    cls[f.group(1)] = Sig("property", [], line_of(m.start()))
        for m in re.finditer(r"#\[pymethods\]\s*impl (\w+) \{", text):
            cls = classes.setdefault(m.group(1), {})
            body_start = m.end() - 1
            body = text[body_start:balanced(text, body_start)]
            scan_fns(body, cls, lambda i, s=body_start: line_of(s + i), in_class=True)
        for m in re.finditer(r"#\[pyfunction\]", text):
            rest = text[m.start():]
            scan_fns(rest[: rest.index("{") + 1], functions, lambda i, s=m.start(): line_of(s + i), in_class=False)
    return classes, functions


def scan_fns(body: str, into: Dict[str, Sig], where, in_class: bool) -> None:
    for m in re.finditer(r"((?:\s*(?:#\[[^\]]*\]|///[^\n]*))*)\s*(?:pub(?:\([^)]*\))? )?fn (\w+)(?:<[^>]*>)?\(", body):
        attrs, name = m.group(1), m.group(2)
        params_text = body[m.end() - 1:balanced(body, m.end() - 1)][1:-1]
        attr_lines = re.findall(r"#\[([^\]]*)\]", attrs)
        if not in_class and not any(a.startswith("pyfunction") for a in attr_lines):
            continue
        sig_attr = next((a for a in attr_lines if "signature = (" in a), None)
        if sig_attr is not None:
            open_at = sig_attr.index("signature = (") + len("signature = ")
            sig_attr = sig_attr[open_at + 1:balanced(sig_attr, open_at) - 1]
        rename = next((re.search(r'name = "(\w+)"', a) for a in attr_lines if a.startswith("pyo3(name")), None)
        kind = "function" if not in_class else "method"
        if "new" in attr_lines:
            kind, name = "new", "__new__"
        elif "getter" in attr_lines:
            kind = "property"
        elif "staticmethod" in attr_lines:
            kind = "static"
        elif "classmethod" in attr_lines:
            kind = "class"
        if rename:
            name = rename.group(1)
        params = from_signature(sig_attr) if sig_attr is not None else from_rust_params(params_text)
        into[name] = Sig(kind, [] if kind == "property" else params, where(m.start(2)))


def stub_params(fn: ast.FunctionDef, drop_first: bool) -> List[Param]:
    a = fn.args
    positional = a.posonlyargs + a.args
    if drop_first and positional:
        positional = positional[1:]
    n_def = len(a.defaults)
    out: List[Param] = []
    for i, p in enumerate(positional):
        out.append((p.arg, False, i >= len(positional) - n_def))
    if a.vararg:
        out.append(("*" + a.vararg.arg, False, False))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((p.arg, True, d is not None))
    if a.kwarg:
        out.append(("**" + a.kwarg.arg, False, False))
    return out


def stub_side() -> Tuple[Dict[str, Dict[str, Sig]], Dict[str, Sig]]:
    tree = ast.parse(open(STUB, encoding="utf-8").read())
    classes: Dict[str, Dict[str, Sig]] = {}
    functions: Dict[str, Sig] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members: Dict[str, Sig] = {}
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    decos = [d.id if isinstance(d, ast.Name) else getattr(d, "attr", "") for d in item.decorator_list]
                    if "property" in decos or "setter" in decos:
                        members[item.name] = Sig("property", [], f"_native.pyi:{item.lineno}")
                        continue
                    kind = "static" if "staticmethod" in decos else "class" if "classmethod" in decos else "method"
                    if item.name == "__new__":
                        kind = "new"
                    members[item.name] = Sig(kind, stub_params(item, kind != "static"), f"_native.pyi:{item.lineno}")
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members[item.target.id] = Sig("property", [], f"_native.pyi:{item.lineno}")
            classes[node.name] = members
        elif isinstance(node, ast.FunctionDef):
            functions[node.name] = Sig("function", stub_params(node, False), f"_native.pyi:{node.lineno}")
    return classes, functions


def compare() -> List[str]:
    rust_classes, rust_fns = rust_side()
    stub_classes, stub_fns = stub_side()
    problems: List[str] = []

    def same(what: str, r: Optional[Sig], s: Optional[Sig]) -> None:
        if r is None and s is not None:
            problems.append(f"{what}: in the stubs ({s.where}) but not in the Rust module")
        elif s is None and r is not None:
            problems.append(f"{what}: exported by {r.where} but has no stub")
        elif r is not None and s is not None:
            if r.kind != s.kind:
                problems.append(f"{what}: a {r.kind} in {r.where}, a {s.kind} in {s.where}")
            elif r.params != s.params:
                problems.append(f"{what}: parameters {fmt(r.params)} in {r.where}, {fmt(s.params)} in {s.where}")

    for name in sorted(set(rust_classes) | set(stub_classes)):
        r, s = rust_classes.get(name), stub_classes.get(name)
        if r is None or s is None:
            problems.append(f"class {name}: {'no stub' if s is None else 'no Rust class'}")
            continue
        for member in sorted(set(r) | set(s)):
            # Dunder methods other than `__new__`: `object` has them (`__repr__`), or the
            # stubs add them for typing (`__eq__` of an `eq` class).
            if member.startswith("__") and member != "__new__":
                continue
            same(f"{name}.{member}", r.get(member), s.get(member))
    for name in sorted(set(rust_fns) | set(stub_fns)):
        same(name, rust_fns.get(name), stub_fns.get(name))
    return problems


def fmt(params: List[Param]) -> str:
    return "(" + ", ".join(("*, " if kw and not any(k for _, k, _ in params[:i]) else "") + n + ("=…" if d else "")
                           for i, (n, kw, d) in enumerate(params)) + ")"


if __name__ == "__main__":
    found = compare()
    for p in found:
        print(p)
    if found:
        sys.exit(1)
    print("stubs match the Rust source")
