"""The generation DAG: uploads, generations, continuity frames, clip elements, assembly.

Pure: a compiled storyboard and the content hashes of its local files go in; a
:class:`Plan` comes out, with a networkx graph whose edges are data dependencies and a
content key per generation — a hash of its canonical request with asset *content*
hashes (and, for continuity, the upstream generation's key) in place of URLs. So a
re-upload never invalidates a generation, and an edit invalidates exactly the scene
edited and the scenes downstream of it.

An offline plan also carries its *renderer* (``"renderer": "animatic 1"``, from the
backend): the clips are rendered here, so a new renderer version is a new key and the
clips are rendered again. A kie.ai plan has none: its keys, and so the paid clips they
name, never depend on this package's version.

A scene may have several *takes*: take ``k`` is its own generation whose canonical
request carries ``"take": k`` (take 1 carries nothing, so its key is the key a scene had
before takes existed). The *picked* take (take 1 unless picked otherwise) is the one the
edit uses and the one continuity follows: ``generate:<scene>`` is the picked take, and the
other takes are ``take:<scene>#<k>`` nodes that feed nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import networkx as nx

from storyboard.compile import PLACEHOLDER_SCHEME, AssetSlot, Generation
from storyboard.errors import InputError
from storyboard.gcpause import gc_paused
from storyboard.pricing import DEFAULT_PRICES, Estimate, PriceTable, estimate

__all__ = [
    "UPSTREAM_PREFIXES",
    "NodeId",
    "NodeKind",
    "Plan",
    "PlanError",
    "PlannedGeneration",
    "asset_node",
    "build_plan",
    "changed_inputs",
    "content_key",
    "picked_generations",
    "take_canonical",
    "take_key",
    "take_name",
    "to_dot",
    "to_mermaid",
]


class PlanError(InputError):
    """The dependencies cannot be ordered (a cycle, a missing scene); the message says how."""


NodeKind = Literal["upload", "generate", "take", "frame", "clip", "assemble"]
"""What a plan node does: upload a file, generate a scene's picked take or another take,
extract a clip's last frame, upload a clip as an element, assemble the edit."""


class NodeId(str):
    """A plan node: its ``kind`` and ``name``, and as text ``kind:name`` (``assemble``).

    ``upload:refs/a.png``, ``generate:wake-up``, ``take:wake-up#2``, ``frame:wake-up``,
    ``clip:wake-up``, ``assemble``. The parts are kept, never parsed back out of the text;
    the text (a ``str``, equal to and hashed as the plain string) is what events, the
    journal and ``--json`` show, so they read exactly as before ids were typed.
    """

    kind: NodeKind
    name: str
    """The scene (``generate``, ``frame``, ``clip``), ``scene#take`` (``take``), the
    file's path (``upload``), or empty (``assemble``)."""

    def __new__(cls, kind: NodeKind, name: str = "") -> NodeId:
        self = super().__new__(cls, f"{kind}:{name}" if name else kind)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "name", name)
        return self

    def __setattr__(self, attribute: str, value: object) -> None:
        raise AttributeError(f"NodeId is immutable: cannot set {attribute!r}")

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # pickle, copy
        return self.kind, self.name

    @property
    def scene(self) -> str | None:
        """The scene id of a ``generate`` node, ``scene#take`` of a ``take`` node."""
        return self.name if self.kind in {"generate", "take"} else None


UPSTREAM_PREFIXES = {"last_frame": "last-frame-of:", "clip": "clip-of:"}
"""How a canonical request names another generation's output: a prefix and its key."""


def content_key(canonical: Mapping[str, Any]) -> str:
    """SHA-256 of a canonical JSON document."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def take_name(scene_id: str, take: int) -> str:
    """``wake-up#2`` (``#`` cannot appear in a scene id)."""
    return f"{scene_id}#{take}"


def take_canonical(canonical: Mapping[str, Any], take: int) -> dict[str, Any]:
    """The canonical request of take ``take`` (take 1 is the request itself)."""
    base = {k: v for k, v in canonical.items() if k != "take"}
    return base if take == 1 else {**base, "take": take}


@dataclass(frozen=True)
class PlannedGeneration:
    """A generation (one take of a scene) with its content key and estimate."""

    generation: Generation
    key: str
    canonical: dict[str, Any]
    estimate: Estimate
    take: int = 1

    @property
    def scene_id(self) -> str:
        return self.generation.scene_id

    @property
    def name(self) -> str:
        """``scene#take``: how slots, events and messages name this take."""
        return take_name(self.scene_id, self.take)


@dataclass
class Plan:
    """The DAG and the per-generation facts the runner needs."""

    graph: nx.DiGraph
    generations: dict[str, PlannedGeneration]
    """Per scene, the picked take (what the edit and continuity use)."""
    file_hashes: dict[str, str]
    namespace: str
    prices: PriceTable = field(default=DEFAULT_PRICES)
    takes: dict[str, dict[int, PlannedGeneration]] = field(default_factory=dict)
    """Per scene, every take by number (the picked one included)."""
    renderer: str | None = None
    """The local renderer and its version in every canonical request (offline), or None."""

    def extra_takes(self) -> list[PlannedGeneration]:
        """The takes that are not picked, in scene then take order."""
        return [
            p
            for scene, takes in self.takes.items()
            for p in takes.values()
            if p.take != self.generations[scene].take
        ]

    def take_node(self, planned: PlannedGeneration) -> NodeId:
        """The graph node of a take: ``generate:<scene>`` when picked, else ``take:...``."""
        if self.generations[planned.scene_id].take == planned.take:
            return NodeId("generate", planned.scene_id)
        return NodeId("take", planned.name)

    def planned_for(self, node: str) -> PlannedGeneration:
        """The take a ``generate:`` or ``take:`` node generates."""
        return self._planned_by_node[node]

    @cached_property
    def _planned_by_node(self) -> dict[str, PlannedGeneration]:
        return {self.take_node(p): p for takes in self.takes.values() for p in takes.values()}

    def order(self) -> list[NodeId]:
        """Node ids in a dependency-respecting order."""
        return list(nx.topological_sort(self.graph))

    def dependencies(self, node: str) -> list[NodeId]:
        """The nodes ``node`` needs first."""
        return sorted(self.graph.predecessors(node))

    def scene_dependencies(self, scene_id: str) -> list[str]:
        """Scene ids whose clips ``scene_id`` needs (directly)."""
        return list(self.generations[scene_id].generation.depends_on)

    def downstream(self, scene_id: str) -> set[str]:
        """Scene ids that (transitively) need ``scene_id``'s clip."""
        nodes = nx.descendants(self.graph, NodeId("generate", scene_id))
        return {n.name for n in nodes if n.kind == "generate"}


@gc_paused()  # linear time at 10,000 scenes (storyboard/gcpause.py)
def build_plan(
    generations: list[Generation],
    file_hashes: Mapping[str, str],
    *,
    namespace: str,
    prices: PriceTable = DEFAULT_PRICES,
    takes: Mapping[str, int] | None = None,
    picks: Mapping[str, int] | None = None,
    renderer: str | None = None,
) -> Plan:
    """Build and check the DAG; compute content keys in dependency order.

    ``takes``: takes per scene (default 1); ``picks``: the picked take per scene (default
    1; a pick beyond ``takes`` adds takes up to it); ``renderer``: the local renderer and
    its version, part of every canonical request (None: none, as for kie.ai).
    """
    graph = _graph(generations)
    _check(graph, generations)
    by_scene = {g.scene_id: g for g in generations}
    picked: dict[str, PlannedGeneration] = {}
    all_takes: dict[str, dict[int, PlannedGeneration]] = {}
    for node in list(nx.topological_sort(graph)):
        if node.kind == "generate":
            gen = by_scene[node.name]
            pick = (picks or {}).get(gen.scene_id, 1)
            count = max((takes or {}).get(gen.scene_id, 1), pick)
            base = _canonical(gen, file_hashes, picked, renderer)
            cost = estimate(gen.body, prices)
            all_takes[gen.scene_id] = {
                k: PlannedGeneration(
                    gen, take_key(namespace, base, k), take_canonical(base, k), cost, k
                )
                for k in range(1, count + 1)
            }
            picked[gen.scene_id] = all_takes[gen.scene_id][pick]
    _add_take_nodes(graph, generations, all_takes, picked)
    ordered = {g.scene_id: picked[g.scene_id] for g in generations}
    ordered_takes = {g.scene_id: all_takes[g.scene_id] for g in generations}
    return Plan(graph, ordered, dict(file_hashes), namespace, prices, ordered_takes, renderer)


def take_key(namespace: str, canonical: Mapping[str, Any], take: int) -> str:
    """The content key of take ``take`` of a request."""
    return content_key({"namespace": namespace, **take_canonical(canonical, take)})


def _add_take_nodes(
    graph: nx.DiGraph,
    generations: list[Generation],
    takes: Mapping[str, Mapping[int, PlannedGeneration]],
    picked: Mapping[str, PlannedGeneration],
) -> None:
    """A ``take:`` node per unpicked take, fed by the same inputs as the scene."""
    for gen in generations:
        inputs = list(graph.predecessors(NodeId("generate", gen.scene_id)))
        for planned in takes[gen.scene_id].values():
            if planned.take == picked[gen.scene_id].take:
                continue
            node = NodeId("take", planned.name)
            graph.add_node(node, kind="take", label=f"take {planned.take} of {gen.scene_id}")
            graph.add_edges_from((source, node) for source in inputs)


def _graph(generations: list[Generation]) -> nx.DiGraph:
    graph = nx.DiGraph()
    assemble = NodeId("assemble")
    graph.add_node(assemble, kind="assemble", label="assemble the edit")
    for gen in generations:
        generate = NodeId("generate", gen.scene_id)
        graph.add_node(generate, kind="generate", label=f"generate {gen.scene_id}")
        graph.add_edge(generate, assemble)
        for slot in gen.assets:
            source = _asset_node(graph, slot)
            graph.add_edge(source, generate)
    return graph


def asset_node(slot: AssetSlot) -> NodeId:
    """The node whose result fills ``slot``: an upload, a last frame or a clip."""
    kinds: dict[str, NodeKind] = {"file": "upload", "last_frame": "frame", "clip": "clip"}
    return NodeId(kinds[slot.kind], slot.source)


def _asset_node(graph: nx.DiGraph, slot: AssetSlot) -> NodeId:
    node = asset_node(slot)
    if node.kind == "upload":
        graph.add_node(node, kind="upload", label=f"upload {slot.source}", path=slot.source)
        return node
    label = f"last frame of {slot.source}" if node.kind == "frame" else f"clip of {slot.source}"
    graph.add_node(node, kind=node.kind, label=label, scene=slot.source)
    graph.add_edge(NodeId("generate", slot.source), node)
    return node


def _check(graph: nx.DiGraph, generations: list[Generation]) -> None:
    scenes = {g.scene_id for g in generations}
    for gen in generations:
        for needed in gen.depends_on:
            if needed not in scenes:
                raise PlanError(
                    f"scene {gen.scene_id!r} needs scene {needed!r}, which does not exist"
                )
    if nx.is_directed_acyclic_graph(graph):  # linear; find_cycle is far slower on a DAG
        return
    cycle = nx.find_cycle(graph)
    scenes_in_cycle = [a.name for a, _ in cycle if a.kind == "generate"]
    names = " -> ".join([*scenes_in_cycle, scenes_in_cycle[0]])
    raise PlanError(f"scenes depend on each other in a cycle: {names}")


def _canonical(
    gen: Generation,
    file_hashes: Mapping[str, str],
    planned: Mapping[str, PlannedGeneration],
    renderer: str | None = None,
) -> dict[str, Any]:
    """The request with every placeholder replaced by what determines its content (and
    the renderer, when there is one)."""
    replacements: dict[str, str] = {}
    for slot in gen.assets:
        if slot.kind == "file":
            replacements[slot.placeholder] = f"sha256:{file_hashes[slot.source]}"
        else:
            prefix = UPSTREAM_PREFIXES[slot.kind]
            replacements[slot.placeholder] = f"{prefix}{planned[slot.source].key}"
    request = {"request": _replace(gen.body, replacements)}
    return request if renderer is None else {**request, "renderer": renderer}


def _replace(value: Any, replacements: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replace(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, replacements) for v in value]
    if isinstance(value, str) and value.startswith(PLACEHOLDER_SCHEME):
        return replacements.get(value, value)
    return value


def changed_inputs(old: Any, new: Any, path: str = "") -> list[str]:
    """Paths where two canonical requests differ (``request.input.multi_prompt[1].prompt``)."""
    return list(_diff(old, new, path))


def _diff(old: Any, new: Any, path: str) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from _diff(old.get(key), new.get(key), f"{path}.{key}" if path else key)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _diff(a, b, f"{path}[{index}]")
    elif old != new:
        yield path


def to_dot(plan: Plan) -> str:
    """The DAG in Graphviz dot."""
    lines = ["digraph storyboard {", "  rankdir=LR;"]
    for node, data in plan.graph.nodes(data=True):
        lines.append(f'  "{node}" [label="{data.get("label", node)}", shape={_shape(data)}];')
    lines += [f'  "{a}" -> "{b}";' for a, b in plan.graph.edges]
    return "\n".join([*lines, "}"]) + "\n"


def to_mermaid(plan: Plan) -> str:
    """The DAG as a Mermaid flowchart."""
    ids = {node: f"n{i}" for i, node in enumerate(plan.graph.nodes)}
    lines = ["flowchart LR"]
    for node, data in plan.graph.nodes(data=True):
        lines.append(f'  {ids[node]}["{data.get("label", node)}"]')
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in plan.graph.edges]
    return "\n".join(lines) + "\n"


def _shape(data: Mapping[str, Any]) -> str:
    shapes = {"generate": "box", "take": "box", "assemble": "doubleoctagon"}
    return shapes.get(str(data.get("kind")), "ellipse")


def picked_generations(
    generations: list[Generation],
    file_hashes: Mapping[str, str],
    *,
    namespace: str,
    prices: PriceTable = DEFAULT_PRICES,
    renderer: str | None = None,
) -> dict[str, PlannedGeneration]:
    """Take 1 of each scene with its content key and estimate, exactly as
    :func:`build_plan` computes them, without building the graph (a recipe batch sums up
    thousands of plans); :class:`PlanError` for a missing scene or a cycle."""
    by_scene = {g.scene_id: g for g in generations}
    planned: dict[str, PlannedGeneration] = {}
    for first in generations:
        stack, entered = [first], {first.scene_id}
        while stack:
            gen = stack[-1]
            waiting = [s for s in gen.depends_on if s not in planned]
            if any(s not in by_scene or s in entered for s in waiting):
                build_plan(generations, file_hashes, namespace=namespace)  # raises; says why
                raise PlanError(f"scene {gen.scene_id!r} needs a scene that cannot be planned")
            if waiting:
                stack.append(by_scene[waiting[0]])
                entered.add(waiting[0])
                continue
            stack.pop()
            if gen.scene_id not in planned:
                base = _canonical(gen, file_hashes, planned, renderer)
                planned[gen.scene_id] = PlannedGeneration(
                    gen,
                    take_key(namespace, base, 1),
                    take_canonical(base, 1),
                    estimate(gen.body, prices),
                )
    return {g.scene_id: planned[g.scene_id] for g in generations}
