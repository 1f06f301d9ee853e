"""List the English texts the Spanish catalog lacks, as JSON stubs to fill in.

Scans every ``Finding(...)`` / ``not_applicable(...)`` text in ``cxkit/`` (with ``ast``: string
literals, implicit and ``+`` concatenations, texts built up in a variable with ``+=``, and
f-strings — a hole that names a module constant is filled in, any other stays as ``{expr}``
and matches any text at run time) and every markdown cell of ``notebooks/``, and prints those
without an entry in ``cxkit/locale/es.json``::

    python tools/missing_translations.py            # JSON stubs {"English": ""} on stdout
    python tools/missing_translations.py --unchecked  # texts the scan cannot key, with places
    python tools/missing_translations.py --merge    # add the stubs to es.json (empty values)

Texts a stub leaves empty read in English until someone writes the Spanish. Texts composed at
run time in ways the scan cannot follow are listed by ``--unchecked``; a Spanish report run
with ``CXKIT_MISSING_LOG=file`` appends every text it could not translate to ``file``.
"""

from __future__ import annotations

import ast
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "cxkit" / "locale" / "es.json"
_CALLS = {"Finding": 1, "not_applicable": 1}  # function name -> index of the text argument


def _module_name(path):
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(rel.parts)


def _flatten(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _flatten(node.left) + _flatten(node.right)
    return [node]


def _is_join(node):
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
    )


def _HOLE_ONLY(key):
    import re

    return not re.sub(r"\{[^{}]*\}", "", key).strip(" .,;:")


class _Scan:
    def __init__(self, path):
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self._module = None
        self.texts, self.unchecked = [], []
        self._parents = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self._parents[child] = node

    def module(self):
        if self._module is None:
            sys.path.insert(0, str(ROOT))
            try:
                self._module = importlib.import_module(_module_name(self.path))
            finally:
                sys.path.pop(0)
        return self._module

    def _constant(self, name, where=None):
        """A module constant's text, or a local name's when the function assigns it one
        string literal only."""
        func = self._function(where) if where is not None else None
        if func is not None:
            assigned = [
                sub.value
                for sub in ast.walk(func)
                if isinstance(sub, ast.Assign | ast.AugAssign)
                and any(
                    isinstance(t, ast.Name) and t.id == name
                    for t in (sub.targets if isinstance(sub, ast.Assign) else [sub.target])
                )
            ]
            if assigned:
                ok = len(assigned) == 1 and isinstance(assigned[0], ast.Constant)
                return assigned[0].value if ok and isinstance(assigned[0].value, str) else None
        value = getattr(self.module(), name, None)
        return value if isinstance(value, str) else None

    def _functions(self):
        return {
            n.name: n
            for n in self.tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }

    def _function(self, node):
        while node in self._parents:
            node = self._parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def _fstring(self, node):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
                continue
            value = part.value
            if (
                isinstance(value, ast.Name)
                and part.format_spec is None
                and (const := self._constant(value.id, node)) is not None
            ):
                out.append(const)
                continue
            spec = ""
            if part.format_spec is not None:
                spec = ":" + "".join(
                    str(p.value) if isinstance(p, ast.Constant) else "?"
                    for p in part.format_spec.values
                )
            out.append("{" + ast.unparse(value) + spec + "}")
        return "".join(out)

    def pieces(self, node, seen=()):
        """The catalog keys a text expression is made of, or None when it cannot be followed."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            return [self._fstring(node)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            operands = _flatten(node)
            got = [self.pieces(o, seen) for o in operands]
            if all(g is not None for g in got):
                return [p for g in got for p in g]
            # a list of names the code joins goes into the text as a value: a hole in one key
            # (matching any value at run time); any other text it cannot follow (a variable
            # holding a sentence) splits the text into pieces translated on their own
            keys, current = [], ""
            for o, g in zip(operands, got, strict=True):
                if g is not None and len(g) == 1:
                    current += g[0]
                elif g is None and _is_join(o):
                    current += "{" + ast.unparse(o) + "}"
                else:
                    keys.append(current)
                    current = ""
                    keys.extend(g or [])
            keys.append(current)
            keys = [k for k in keys if k.strip() and not _HOLE_ONLY(k)]
            return keys or None
        if isinstance(node, ast.IfExp):
            a, b = self.pieces(node.body, seen), self.pieces(node.orelse, seen)
            return None if a is None or b is None else a + b
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            # a helper of this module that returns the text: the texts of its returns
            func = self._functions().get(node.func.id)
            if func is None or func.name in seen:
                return None
            out = []
            for sub in ast.walk(func):
                if isinstance(sub, ast.Return) and sub.value is not None:
                    if isinstance(sub.value, ast.Constant) and sub.value.value is None:
                        continue
                    got = self.pieces(sub.value, (*seen, func.name))
                    if got is None:
                        return None
                    out.extend(got)
            return out or None
        if isinstance(node, ast.Name):
            if node.id in seen:
                return None
            func = self._function(node)
            values = []
            if func is not None:
                for sub in ast.walk(func):
                    if isinstance(sub, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == node.id for t in sub.targets
                    ):
                        values.append(sub.value)
                    elif (
                        isinstance(sub, ast.AugAssign)
                        and isinstance(sub.target, ast.Name)
                        and sub.target.id == node.id
                    ):
                        values.append(sub.value)
            if values:
                out = []
                for v in values:
                    got = self.pieces(v, (*seen, node.id))
                    if got is None:
                        return None
                    out.extend(got)
                return out
            const = self._constant(node.id)
            return None if const is None else [const]
        return None

    def sentences(self):
        """Reader sentences the module writes outside ``Finding(...)`` calls (reasons a
        section does not apply, returned by helpers): string literals and f-strings of at
        least 40 characters that start with a capital letter and end a sentence, not
        docstrings and not error messages."""
        skip = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                skip.add(node.value)  # docstrings
            if isinstance(node, ast.Raise | ast.Call) and (
                isinstance(node, ast.Raise)
                or getattr(node.func, "id", getattr(node.func, "attr", "")).endswith(
                    ("Error", "warn")
                )
            ):
                skip.update(ast.walk(node))
        for node in ast.walk(self.tree):
            if node in skip or node in self._parts:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = self._fstring(node)
            else:
                continue
            text = text.strip()
            if len(text) >= 40 and text[:1].isupper() and text.endswith((".", ".)")):
                where = f"{self.path.relative_to(ROOT)}:{node.lineno}"
                self.texts.append((where, text))

    def run(self):
        self._parts = {n for n in ast.walk(self.tree) if isinstance(n, ast.JoinedStr)}
        self._parts = {c for n in self._parts for c in ast.walk(n) if c is not n}
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in _CALLS:
                continue
            arg = next((k.value for k in node.keywords if k.arg in ("text", "why")), None)
            if arg is None and len(node.args) > _CALLS[name]:
                arg = node.args[_CALLS[name]]
            if arg is None:
                continue
            got = self.pieces(arg)
            where = f"{self.path.relative_to(ROOT)}:{node.lineno}"
            if got is None:
                self.unchecked.append((where, ast.unparse(arg)[:120]))
            else:
                self.texts.extend((where, t) for t in got if t.strip())


def finding_texts():
    """``(texts, unchecked)``: ``[(place, English text)]`` of every finding text in cxkit/,
    and ``[(place, expression)]`` of those the scan cannot follow."""
    texts, unchecked = [], []
    for path in sorted((ROOT / "cxkit").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "Finding(" not in source and "not_applicable(" not in source:
            continue
        if path.name in ("story.py",):
            continue  # defines them
        scan = _Scan(path)
        scan.run()
        scan.sentences()
        texts += scan.texts
        unchecked += scan.unchecked
    return texts, unchecked


def notebook_texts():
    """``[(place, markdown cell source)]`` of every notebook in notebooks/."""
    out = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"], 1):
            if cell["cell_type"] == "markdown":
                source = "".join(cell["source"])
                if source.strip():
                    out.append((f"{path.name} cell {i}", source))
    return out


def missing(catalog=None):
    """``[(place, English)]`` of the finding and notebook texts without a Spanish entry."""
    if catalog is None:
        catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
    keys = {k.strip() for k, v in catalog.items() if v}
    texts, _ = finding_texts()
    out, seen = [], set()
    for where, text in texts + notebook_texts():
        key = text.strip()
        if key not in keys and key not in seen:
            seen.add(key)
            out.append((where, key))
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--unchecked" in argv:
        for where, expr in finding_texts()[1]:
            print(f"{where}: {expr}")
        return 0
    stubs = {text: "" for _, text in missing()}
    if "--merge" in argv:
        catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
        catalog.update({k: v for k, v in stubs.items() if k not in catalog})
        CATALOG.write_text(json.dumps(catalog, ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"added {len(stubs)} empty entries to {CATALOG}", file=sys.stderr)
        return 0
    print(json.dumps(stubs, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
