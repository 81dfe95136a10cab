"""The storyboard file format, as pydantic models.

Every field carries a description: ``storyboard schema`` turns these models into the
JSON Schema editors use for completion, and the reference docs come from the same place.
Structure and types are checked here; the Kling 3.0 rules that depend on how a scene
compiles (total durations, prompt lengths, frames) are checked on the compiled request
by :mod:`storyboard.kling.rules`, so each rule lives in one place.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from storyboard.edit.model import Edit, Output, SpecModel
from storyboard.edit.sources import Effect, Footage, Still
from storyboard.kling.limits import DEFAULT_LIMITS, AspectRatio, Mode

__all__ = [
    "FORMAT_VERSION",
    "MAX_TAKES",
    "Defaults",
    "Element",
    "FrameSource",
    "Scene",
    "Shot",
    "Storyboard",
    "is_url",
    "json_schema",
]

FORMAT_VERSION = 1
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*$"
SCENE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
DIALOGUE_MAX = 400
"""Characters of one shot's spoken line (a subtitle beyond that is unreadable in a shot)."""
SCENE_ID_MAX = 64
"""Longest scene id: ids name clip and frame files, which must stay short and portable."""

MAX_TAKES = 4
"""Most takes a storyboard asks for per scene (``storyboard reroll`` may add more)."""
Takes = Annotated[int, Field(ge=1, le=MAX_TAKES)]
ShotSeconds = Annotated[
    int,
    Field(strict=True, ge=DEFAULT_LIMITS.shot_duration[0], le=DEFAULT_LIMITS.shot_duration[1]),
]


def _element_name(name: str) -> str:
    if not re.match(NAME_PATTERN, name):
        raise ValueError(
            f"element name {name!r} can't be used as @{name}: use letters, digits, _ and inner -"
        )
    return name


ElementName = Annotated[str, AfterValidator(_element_name)]


def is_url(value: str) -> bool:
    """True for http(s) URLs, which pass through to the API untouched."""
    return value.startswith(("http://", "https://"))


class FrameSource(SpecModel):
    """Where a first or last frame comes from: a file, a URL, or another scene's clip.

    Written as a plain string (a path relative to the storyboard, or a URL) or as
    ``{from: <scene id>}`` for continuity: the last frame of that scene's clip.
    """

    path: str | None = Field(None, description="Image file (relative path) or http(s) URL.")
    from_scene: str | None = Field(
        None, alias="from", description="Scene id whose clip's last frame is used (continuity)."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"path": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_source(self) -> FrameSource:
        if (self.path is None) == (self.from_scene is None):
            raise ValueError("give either a file/URL or {from: <scene id>}, not both or neither")
        return self


class Element(SpecModel):
    """A character, object or place that prompts reference as ``@name``."""

    description: str = Field(min_length=1, description="What the element is, in a few words.")
    images: list[str] | None = Field(
        None, description="2-4 reference images (JPG/PNG, >=300x300 px, <=10 MB): paths or URLs."
    )
    video: FrameSource | None = Field(
        None,
        description="One reference video (MP4/MOV, <=50 MB): a path, a URL, or {from: <scene>} "
        "to use a generated clip.",
    )

    @model_validator(mode="after")
    def _one_reference(self) -> Element:
        if (self.images is None) == (self.video is None):
            raise ValueError("an element needs either `images` (2-4) or one `video`, not both")
        return self


class Shot(SpecModel):
    """One shot: a prompt and a duration, with optional camera and style notes."""

    prompt: str = Field(
        min_length=1,
        description="What happens. Jinja expressions ({{ var }}) expand; @name references "
        "an element.",
    )
    duration: ShotSeconds = Field(description="Whole seconds, 1-12 (a scene totals 3-15).")
    camera: str | None = Field(
        None, description="Camera move or framing, folded into the prompt by the template."
    )
    style: str | None = Field(
        None, description="Look and style, folded into the prompt by the template."
    )
    dialogue: str | None = Field(
        None,
        min_length=1,
        max_length=DIALOGUE_MAX,
        description="The line spoken in this shot: becomes its subtitle (.srt/.vtt, optional "
        "burn-in); the cinematic template also quotes it in the prompt for native audio.",
    )

    @field_validator("dialogue")
    @classmethod
    def _spoken(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("dialogue is blank: write the spoken line, or leave it out")
        return value


class Defaults(SpecModel):
    """Settings every scene inherits unless it overrides them."""

    mode: Mode = Field(
        "pro",
        description="std (720p, cheaper) or pro (1080p); 4K is accepted by the live "
        "service but not in the seed's enum (a warning; priced by an assumed rate).",
    )
    aspect_ratio: AspectRatio = Field(
        "16:9", description="16:9, 9:16 or 1:1 (a first frame's own ratio wins)."
    )
    sound: StrictBool = Field(True, description="Generate sound (always on for multi-shot scenes).")
    template: str = Field(
        "default",
        description="Prompt template: default (prompt verbatim), cinematic, or a user template.",
    )
    takes: Takes = Field(
        1, description="Takes generated per scene (1-4), each its own generation to pick from."
    )


class Scene(SpecModel):
    """A scene: shots generated together as one Kling 3.0 clip, a still, or footage."""

    id: str = Field(
        pattern=SCENE_ID_PATTERN,
        max_length=SCENE_ID_MAX,
        description=f"Unique scene id: letters, digits, - _ . (starting with a letter or "
        f"digit), at most {SCENE_ID_MAX} characters.",
    )
    shots: list[Shot] = Field(
        default_factory=list,
        description="1 shot = single-shot; 2+ = multi-shot (first frame only). A scene has "
        "shots, a still or footage.",
    )
    still: Still | None = Field(
        None, description="An image shown as the scene (not generated; rendered by moviepy)."
    )
    footage: Footage | None = Field(
        None, description="A local video used as the scene (not generated)."
    )
    effects: list[Effect] = Field(
        default_factory=list,
        description="moviepy video effects applied to the scene, in order: "
        "[{name: BlackAndWhite}, {name: MultiplySpeed, factor: 1.5}].",
    )
    first_frame: FrameSource | None = Field(
        None,
        description="Opening image: a path, a URL, or {from: <scene id>} for continuity.",
    )
    last_frame: FrameSource | None = Field(
        None, description="Closing image (single-shot scenes only): a path or URL."
    )
    mode: Mode | None = Field(None, description="Overrides defaults.mode for this scene.")
    aspect_ratio: AspectRatio | None = Field(
        None, description="Overrides defaults.aspect_ratio for this scene."
    )
    sound: StrictBool | None = Field(None, description="Overrides defaults.sound for this scene.")
    template: str | None = Field(None, description="Overrides defaults.template for this scene.")
    takes: Takes | None = Field(None, description="Overrides defaults.takes for this scene.")
    notes: str | None = Field(None, description="Free notes; not sent anywhere.")

    @model_validator(mode="after")
    def _one_kind(self) -> Scene:
        given = [name for name in ("shots", "still", "footage") if getattr(self, name)]
        if len(given) != 1:
            found = " and ".join(given) if given else "none of them"
            raise ValueError(f"a scene needs `shots`, a `still` or `footage` (found {found})")
        return self

    @property
    def generated(self) -> bool:
        """True when the scene is generated by Kling (it has shots)."""
        return bool(self.shots)

    @property
    def seconds(self) -> float:
        """The scene's length before trims and effects (s); footage without `out`: 0."""
        if self.still is not None:
            return self.still.duration
        if self.footage is not None:
            end = self.footage.end
            return 0.0 if end is None else end - self.footage.start
        return float(sum(shot.duration for shot in self.shots))


class Storyboard(SpecModel):
    """A whole storyboard: elements, scenes in order, the edit, and the output."""

    storyboard: Literal[1] = Field(description="Format version; 1.")
    title: str = Field(min_length=1, description="Title of the piece (names outputs by default).")
    description: str | None = Field(None, description="Free description.")
    defaults: Defaults = Field(default_factory=Defaults, description="Scene defaults.")
    vars: dict[str, Any] = Field(
        default_factory=dict, description="Variables for {{ ... }} expressions in prompts."
    )
    templates: list[str] = Field(
        default_factory=list,
        description="Folders of user prompt templates (relative to the storyboard); they "
        "override built-ins of the same name.",
    )
    elements: dict[ElementName, Element] = Field(
        default_factory=dict, description="Named elements; prompts reference them as @name."
    )
    scenes: list[Scene] = Field(min_length=1, description="The scenes, in story order.")
    edit: Edit = Field(default_factory=Edit, description="How the clips are assembled.")
    output: Output = Field(default_factory=Output, description="Output file and encoding.")

    @field_validator("storyboard", mode="before")
    @classmethod
    def _version_number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("the format version is the number 1, not true/false")
        return value

    @field_validator("output", mode="before")
    @classmethod
    def _output_path(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    def takes_of(self, scene_id: str) -> int:
        """How many takes the storyboard asks for of this scene."""
        return self.scene(scene_id).takes or self.defaults.takes

    def scene(self, scene_id: str) -> Scene:
        """The scene with this id (KeyError if none)."""
        for scene in self.scenes:
            if scene.id == scene_id:
                return scene
        raise KeyError(scene_id)


def json_schema() -> dict[str, Any]:
    """The storyboard JSON Schema for editors, shorthand string forms included."""
    schema = Storyboard.model_json_schema(by_alias=True)
    defs = schema["$defs"]
    defs["FrameSource"] = {"anyOf": [{"type": "string"}, defs["FrameSource"]]}
    output = schema["properties"]["output"]
    schema["properties"]["output"] = {
        "anyOf": [{"type": "string", "description": "Output file path."}, {"$ref": output["$ref"]}],
        "description": output.get("description", ""),
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "storyboard file"
    return schema
