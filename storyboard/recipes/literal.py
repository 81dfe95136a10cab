"""Keep recipe values data: a filled-in storyboard's prompts are final text.

A recipe's storyboard template is rendered once, with parameters and row cells as
variables. The storyboard it produces would have its shot prompts rendered again by
:mod:`storyboard.compile` (variable expansion), which would run any ``{{ ... }}`` a
value brought in — ``--param 'tagline={{ 7*7 }}'`` would become "49". So the prompts of
a filled-in storyboard that contain Jinja syntax are escaped, and compile to exactly the
characters the value had.
"""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["JINJA_MARKS", "escape_jinja", "literal_prompts"]

JINJA_MARKS = ("{{", "{%", "{#")


def escape_jinja(text: str) -> str:
    """Jinja source that renders to exactly ``text``."""
    if "endraw" not in text:
        return "{% raw %}" + text + "{% endraw %}"
    return re.sub(r"\{(?=[{%#])", "{{ '{' }}", text)


def literal_prompts(text: str) -> str:
    """Storyboard ``text`` with every shot prompt holding Jinja syntax escaped (text that
    is not a readable storyboard is returned as it is, for validation to report)."""
    if not any(mark in text for mark in JINJA_MARKS):
        return text
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return text
    unique = {id(node): node for node in _prompts(root)}.values()  # an alias: one node
    for node in sorted(unique, key=lambda n: n.start_mark.index, reverse=True):
        if any(mark in node.value for mark in JINJA_MARKS):
            start, end = node.start_mark.index, node.end_mark.index
            region = text[start:end]
            trailing = region[len(region.rstrip()) :]
            text = text[:start] + _quoted(escape_jinja(node.value)) + trailing + text[end:]
    return text


def _quoted(value: str) -> str:
    dumped = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=float("inf"))
    return dumped.rstrip("\n").removesuffix("\n...").rstrip("\n")


def _prompts(root: Node | None) -> list[ScalarNode]:
    found: list[ScalarNode] = []
    for scene in _items(_value(root, "scenes")):
        for shot in _items(_value(scene, "shots")):
            prompt = _value(shot, "prompt")
            if isinstance(prompt, ScalarNode):
                found.append(prompt)
    return found


def _value(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            found: Node = value_node
            return found
    return None


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []
