"""Compile a storyboard into Kling 3.0 createTask bodies, one generation per scene.

Pure: the storyboard goes in, :class:`Generation` objects come out (the exact request
body, the local assets that must be uploaded first as explicit ``sb://`` placeholders,
and the scenes it depends on), with every Kling rule checked on the body and reported
back at the storyboard line that caused it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from jinja2.sandbox import SandboxedEnvironment

from storyboard._callable import make_callable
from storyboard.diagnostics import Diagnostic, FieldPath, sort_diagnostics
from storyboard.kling import (
    DEFAULT_LIMITS,
    CreateTaskRequest,
    KlingElement,
    KlingInput,
    KlingLimits,
    Rule,
    ShotPrompt,
    Violation,
    check_model,
    element_refs,
)
from storyboard.load import LoadedStoryboard
from storyboard.sandbox import MAX_SIZE
from storyboard.source import SourceMap
from storyboard.spec import FrameSource, Scene, Storyboard, is_url
from storyboard.templating import (
    TemplateProblem,
    make_environment,
    render_named,
    render_string,
    template_folders,
)

__all__ = [
    "PLACEHOLDER_SCHEME",
    "AssetSlot",
    "Compiled",
    "Generation",
    "compile_storyboard",
    "placeholder_for",
]

PLACEHOLDER_SCHEME = "sb://"
_OUTSIDE_HINT = "keep templates inside the storyboard's folder, or pass --allow-outside"
AssetKind = Literal["file", "last_frame", "clip"]


@dataclass(frozen=True)
class AssetSlot:
    """An input that is not a URL yet: a local file to upload, or a generated frame/clip."""

    kind: AssetKind
    source: str  # a path relative to the storyboard (file) or a scene id
    field: FieldPath  # where the storyboard names it

    @property
    def placeholder(self) -> str:
        """The explicit placeholder the request carries until the asset has a URL."""
        return placeholder_for(self.kind, self.source)


def placeholder_for(kind: AssetKind, source: str) -> str:
    """``sb://upload/refs/dog.png``, ``sb://last-frame/wake-up.png``, ``sb://clip/x.mp4``."""
    if kind == "file":
        return f"{PLACEHOLDER_SCHEME}upload/{source}"
    if kind == "last_frame":
        return f"{PLACEHOLDER_SCHEME}last-frame/{source}.png"
    return f"{PLACEHOLDER_SCHEME}clip/{source}.mp4"


@dataclass(frozen=True)
class Generation:
    """One scene compiled to one Kling 3.0 generation."""

    scene_id: str
    index: int
    request: CreateTaskRequest
    assets: tuple[AssetSlot, ...] = ()
    source_map: dict[str, FieldPath] = field(default_factory=dict, compare=False)

    @property
    def body(self) -> dict[str, Any]:
        """The createTask JSON body (placeholders where assets await upload)."""
        return self.request.to_body()

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Scene ids whose clips this generation needs first (continuity, clip elements)."""
        scenes = (a.source for a in self.assets if a.kind != "file")
        return tuple(dict.fromkeys(scenes))

    @property
    def shot_count(self) -> int:
        return len(self.request.input.multi_prompt) if self.request.input.multi_shots else 1

    @property
    def duration(self) -> int:
        return int(self.request.input.duration)


@dataclass
class Compiled:
    """The generations of a storyboard and the problems found compiling it."""

    storyboard: Storyboard
    generations: list[Generation]
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def compile_storyboard(
    loaded: LoadedStoryboard,
    *,
    limits: KlingLimits = DEFAULT_LIMITS,
    env: SandboxedEnvironment | None = None,
    allow_outside: bool = False,
) -> Compiled:
    """Compile a loaded, valid storyboard; every Kling rule is checked on each body.

    Template folders (and every template read from them, symlinks followed) must be
    inside the storyboard's folder unless ``allow_outside``."""
    board = loaded.storyboard
    if board is None:
        raise ValueError("cannot compile an invalid storyboard; check loaded.errors first")
    folders, refused = template_folders(
        loaded.base_dir, board.templates, allow_outside=allow_outside
    )
    root = None if allow_outside else loaded.base_dir
    env = env or make_environment(folders, root=root)
    compiler = _SceneCompiler(board, loaded.source, env, limits)
    compiler.problems += [
        loaded.source.diagnostic(("templates", index), message, hint=_OUTSIDE_HINT)
        for index, message in refused
    ]
    generations = [g for i, s in enumerate(board.scenes) if (g := compiler.compile(i, s))]
    return Compiled(board, generations, sort_diagnostics(compiler.problems))


class _SceneCompiler:
    def __init__(
        self, board: Storyboard, source: SourceMap, env: SandboxedEnvironment, limits: KlingLimits
    ) -> None:
        self.board, self.source, self.env, self.limits = board, source, env, limits
        self.problems: list[Diagnostic] = []
        self.stopped = False
        """A template hit a sandbox limit: render no more (bounds the whole compile)."""

    def compile(self, index: int, scene: Scene) -> Generation | None:
        if not scene.generated:  # stills and footage are never sent to kie.ai
            return None
        here: FieldPath = ("scenes", index)
        prompts = self._prompts(index, scene)
        if prompts is None:
            return None
        assets: list[AssetSlot] = []
        smap: dict[str, FieldPath] = {}
        try:
            request = CreateTaskRequest(input=self._input(index, scene, prompts, assets, smap))
        except ValueError as exc:  # the storyboard's types are the request's; a bug if so
            self.problems.append(self.source.diagnostic(here, f"internal compile error: {exc}"))
            return None
        generation = Generation(scene.id, index, request, tuple(assets), smap)
        for violation in check_model(request, self.limits):
            self.problems.append(self._locate(violation, here, smap))
        return generation

    # -- prompts -----------------------------------------------------------------

    def _prompts(self, index: int, scene: Scene) -> list[str] | None:
        template = scene.template or self.board.defaults.template
        prompts: list[str] = []
        for number, shot in enumerate(scene.shots):
            path: FieldPath = ("scenes", index, "shots", number, "prompt")
            text = self._expand(shot.prompt, path)
            if text is None:
                continue
            context = self._context(scene, index, number, text)
            rendered = self._apply_template(template, context, index, scene)
            if rendered is not None:
                prompts.append(rendered)
        return prompts if len(prompts) == len(scene.shots) else None

    def _expand(self, text: str, path: FieldPath) -> str | None:
        if len(text) > MAX_SIZE:
            self.problems.append(
                self.source.diagnostic(
                    path,
                    f"prompt is {len(text):,} characters; Kling 3.0 accepts at most "
                    f"{self.limits.single_prompt_chars:,}",
                    hint="shorten the prompt",
                )
            )
            return None
        if self.stopped:
            return None
        try:
            return render_string(self.env, text, {**self.board.vars, "vars": self.board.vars})
        except TemplateProblem as exc:
            self._template_problem(exc, path, hint=_template_hint(exc))
            return None

    def _template_problem(self, exc: TemplateProblem, path: FieldPath, hint: str | None) -> None:
        self.stopped = self.stopped or exc.limit
        where = exc.field if exc.field is not None else path
        if exc.field is not None and exc.cause == "outside":
            hint = _OUTSIDE_HINT
        self.problems.append(self.source.diagnostic(where, str(exc), hint=hint))

    def _context(self, scene: Scene, index: int, number: int, text: str) -> dict[str, Any]:
        shot = scene.shots[number]
        return {
            **self.board.vars,
            "vars": self.board.vars,
            "shot": {**shot.model_dump(), "prompt": text, "index": number, "number": number + 1},
            "scene": {"id": scene.id, "index": index, "shots": len(scene.shots)},
            "storyboard": {"title": self.board.title},
        }

    def _apply_template(
        self, name: str, context: dict[str, Any], index: int, scene: Scene
    ) -> str | None:
        if self.stopped:
            return None
        try:
            return render_named(self.env, name, context)
        except TemplateProblem as exc:
            path = ("scenes", index, "template") if scene.template else ("defaults", "template")
            self._template_problem(exc, path, hint=None)
            return None

    # -- the input object ----------------------------------------------------------

    def _input(
        self,
        index: int,
        scene: Scene,
        prompts: list[str],
        assets: list[AssetSlot],
        smap: dict[str, FieldPath],
    ) -> KlingInput:
        here: FieldPath = ("scenes", index)
        defaults = self.board.defaults
        multi = len(scene.shots) > 1
        smap.update(_shot_map(here, len(scene.shots)))
        smap["input.sound"] = (*here, "sound") if scene.sound is not None else ("defaults", "sound")
        smap["input.mode"] = (*here, "mode") if scene.mode else ("defaults", "mode")
        smap["input.aspect_ratio"] = (
            (*here, "aspect_ratio") if scene.aspect_ratio else ("defaults", "aspect_ratio")
        )
        frames = self._frames(here, scene, assets, smap)
        elements = self._elements(prompts, here, scene, assets, smap)
        if multi and _pick(scene.sound, defaults.sound) is False:
            self.problems.append(
                self.source.diagnostic(
                    smap["input.sound"],
                    "multi-shot scenes always generate sound; sound: false is ignored here",
                    severity="warning",
                )
            )
        return KlingInput(
            prompt=" ".join(prompts) if multi else prompts[0],
            image_urls=frames or None,
            sound=True if multi else _pick(scene.sound, defaults.sound),
            duration=str(sum(s.duration for s in scene.shots)),
            aspect_ratio=_pick(scene.aspect_ratio, defaults.aspect_ratio),
            mode=_pick(scene.mode, defaults.mode),
            multi_shots=multi,
            multi_prompt=[
                ShotPrompt(prompt=p, duration=s.duration)
                for p, s in zip(prompts, scene.shots, strict=True)
            ]
            if multi
            else [],
            kling_elements=elements or None,
        )

    def _frames(
        self, here: FieldPath, scene: Scene, assets: list[AssetSlot], smap: dict[str, FieldPath]
    ) -> list[str]:
        urls: list[str] = []
        for name in ("first_frame", "last_frame"):
            frame: FrameSource | None = getattr(scene, name)
            if frame is None:
                continue
            path = (*here, name)
            smap[f"input.image_urls[{len(urls)}]"] = path
            urls.append(self._asset(frame, path, assets, "last_frame"))
        smap["input.image_urls"] = (*here, "first_frame") if scene.first_frame else here
        if scene.last_frame and len(scene.shots) > 1:
            smap["input.image_urls"] = (*here, "last_frame")
        return urls

    def _elements(
        self,
        prompts: list[str],
        here: FieldPath,
        scene: Scene,
        assets: list[AssetSlot],
        smap: dict[str, FieldPath],
    ) -> list[KlingElement]:
        result: list[KlingElement] = []
        for number, prompt in enumerate(prompts):
            for name in element_refs(prompt):
                smap.setdefault(f"@{name}", (*here, "shots", number, "prompt"))
        for name in [ref[1:] for ref in smap if ref.startswith("@")]:
            if name not in self.board.elements:
                continue
            smap[f"input.kling_elements[{len(result)}]"] = ("elements", name)
            result.append(self._element(name, assets))
        return result

    def _element(self, name: str, assets: list[AssetSlot]) -> KlingElement:
        element = self.board.elements[name]
        if element.images is not None:
            urls = [
                self._asset(FrameSource(path=p), ("elements", name, "images", i), assets, "file")
                for i, p in enumerate(element.images)
            ]
            return KlingElement(name=name, description=element.description, element_input_urls=urls)
        assert element.video is not None
        url = self._asset(element.video, ("elements", name, "video"), assets, "clip")
        return KlingElement(
            name=name, description=element.description, element_input_video_urls=[url]
        )

    def _asset(
        self, frame: FrameSource, path: FieldPath, assets: list[AssetSlot], generated: AssetKind
    ) -> str:
        if frame.from_scene is not None:
            slot = AssetSlot(generated, frame.from_scene, path)
        else:
            assert frame.path is not None
            if is_url(frame.path):
                return frame.path
            slot = AssetSlot("file", normalise_path(frame.path), path)
        if slot not in assets:
            assets.append(slot)
        return slot.placeholder

    # -- mapping rule violations back to the storyboard --------------------------------

    def _locate(
        self, violation: Violation, here: FieldPath, smap: dict[str, FieldPath]
    ) -> Diagnostic:
        path = here
        ref = f"@{violation.element}"
        if violation.code is Rule.ELEMENT_UNDEFINED and ref in smap:
            path = smap[ref]  # the prompt that references the missing element
        else:
            for prefix in _prefixes(violation.path):
                if prefix in smap:
                    path = smap[prefix] + _tail(violation.path, prefix, smap[prefix])
                    break
        return self.source.diagnostic(
            path, violation.message, severity=violation.severity, hint=_rule_hint(violation)
        )


@functools.lru_cache(maxsize=4096)
def normalise_path(value: str) -> str:
    """A relative asset path in POSIX form, without ``./`` or redundant parts."""
    return PurePosixPath(Path(value).as_posix()).as_posix().removeprefix("./")


def _pick(value: Any, default: Any) -> Any:
    return default if value is None else value


def _shot_map(here: FieldPath, count: int) -> dict[str, FieldPath]:
    shots: FieldPath = (*here, "shots")
    smap: dict[str, FieldPath] = {
        "input.prompt": (*shots, 0, "prompt") if count == 1 else shots,
        "input.duration": (*shots, 0, "duration") if count == 1 else shots,
        "input.multi_prompt": shots,
    }
    for number in range(count):
        smap[f"input.multi_prompt[{number}]"] = (*shots, number)
    return smap


def _prefixes(path: str) -> Iterator[str]:
    """``a.b[1].c`` -> ``a.b[1].c``, ``a.b[1]``, ``a.b``, ``a``."""
    while path:
        yield path
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""


def _tail(full: str, prefix: str, target: FieldPath) -> FieldPath:
    """Carry the rest of a body path over to the storyboard path it maps to."""
    rest = full[len(prefix) :].lstrip(".")
    if target and isinstance(target[-1], int) and rest in {"prompt", "duration"}:
        return (rest,)
    if target[:1] == ("elements",) and len(target) == 2:
        field_name, _, index = rest.partition("[")
        if field_name == "element_input_urls":
            return ("images", int(index.rstrip("]"))) if index else ("images",)
        if field_name == "element_input_video_urls":
            return ("video",)
        if field_name == "description":
            return ("description",)
    return ()


_SCENE_LENGTH_HINT = "a scene lasts 3-15 s in total: shorten its shots or split the scene"
_FRAME_HINT = (
    "give the scene a first_frame (elements need one); multi-shot scenes take no last_frame"
)
_ELEMENT_HINT = "define the element under `elements:` or fix the @name"
_RULE_HINTS: dict[Rule, str] = {
    Rule.DURATION: _SCENE_LENGTH_HINT,
    Rule.DURATION_SUM: _SCENE_LENGTH_HINT,
    Rule.FRAME_COUNT: _FRAME_HINT,
    Rule.FRAME_REQUIRED: _FRAME_HINT,
    Rule.SHOT_COUNT: "split the scene into two scenes",
    Rule.SHOT_DURATION: "shots last 1-12 s each",
    Rule.PROMPT_LENGTH: "shorten the prompt",
    Rule.ELEMENT_COUNT: _ELEMENT_HINT,
    Rule.ELEMENT_UNDEFINED: _ELEMENT_HINT,
    Rule.ELEMENT_UNUSED: _ELEMENT_HINT,
}


def _rule_hint(violation: Violation) -> str | None:
    return _RULE_HINTS.get(violation.code)


_TEMPLATE_HINTS: dict[str | None, str] = {
    "undefined": "define it under `vars:` or escape the braces with {% raw %}...{% endraw %}",
    "sandbox": "prompts may use variables and filters only",
}


def _template_hint(problem: TemplateProblem) -> str | None:
    return _TEMPLATE_HINTS.get(problem.cause)


def _compile_file() -> Any:
    from storyboard.validate import compile_file

    return compile_file


make_callable(__name__, _compile_file)
