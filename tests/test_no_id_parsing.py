"""Plan node ids are typed (``storyboard.plan.NodeId``): nothing splits them back into parts.

Every module under ``storyboard/`` is parsed (``ast``, nothing imported). A call that
splits text at ``":"`` (``partition``, ``rpartition``, ``split``, ``rsplit``) fails the
test unless it is one of the few that parse something other than a node id, named in
:data:`ALLOWED`; so does a string (or f-string) starting with a node kind and ``":"``
outside ``plan.py`` (``"generate:"``: building or matching an id by hand, not with
``NodeId(kind, name)`` and ``.kind``/``.name``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

from storyboard.plan import NodeKind

PACKAGE = Path(__file__).resolve().parents[1] / "storyboard"

SPLITS = frozenset({"partition", "rpartition", "split", "rsplit"})

ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        # (module path under storyboard/, enclosing function): not node ids
        ("providers/emulator/uploads.py", "_parse_part"),  # a multipart header "Key: value"
        ("kling/limits.py", "aspect_shape"),  # an aspect ratio "16:9"
        ("run/callbacks.py", "parse_listen"),  # "host:port"
        ("recipes/load.py", "_template_line"),  # a YAML line "key: value"
    }
)

NODE_PREFIXES = tuple(f"{kind}:" for kind in get_args(NodeKind))


def _functions(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """Every node with the name of the innermost function around it ("" at module level)."""

    def walk(node: ast.AST, function: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            inner = (
                child.name
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                else function
            )
            yield inner, child
            yield from walk(child, inner)

    yield from walk(tree, "")


def _splits_at_colon(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    if node.func.attr not in SPLITS or not node.args:
        return False
    first = node.args[0]
    return isinstance(first, ast.Constant) and first.value == ":"


def _node_prefix(node: ast.AST) -> bool:
    """A string constant (an f-string's text parts included) that starts like a node id."""
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith(NODE_PREFIXES)
    )


def _modules() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def test_no_code_splits_text_at_a_colon_except_the_named_parsers() -> None:
    found, used = [], set()
    for module, tree in _modules():
        for function, node in _functions(tree):
            if _splits_at_colon(node):
                if (module, function) in ALLOWED:
                    used.add((module, function))
                else:
                    found.append(f"storyboard/{module}:{node.lineno} in {function or 'module'}")
    assert not found, (
        "node ids are typed: use NodeId.kind / .name, not a split at ':' "
        f"(or name a parser of something else in ALLOWED): {found}"
    )
    assert used == ALLOWED, f"ALLOWED names parsers that no longer exist: {ALLOWED - used}"


def test_no_node_id_is_spelled_as_text_outside_the_plan() -> None:
    found = [
        f"storyboard/{module}:{node.lineno}"
        for module, tree in _modules()
        if module != "plan.py"
        for _, node in _functions(tree)
        if _node_prefix(node)
    ]
    assert not found, f"build node ids with NodeId(kind, name), match with .kind: {found}"


def test_the_checks_catch_what_they_are_for() -> None:
    tree = ast.parse(
        'kind, _, name = node.partition(":")\n'
        'scene = node.split(":", 1)[1]\n'
        'node = f"generate:{scene}"\n'
        'ok = node.startswith("take:")\n'
    )
    nodes = [node for _, node in _functions(tree)]
    assert sum(_splits_at_colon(n) for n in nodes) == 2
    assert sum(_node_prefix(n) for n in nodes) == 2
