"""The recipe file format, as pydantic models.

A recipe is a reusable, parameterised pipeline: typed parameters with defaults, a
storyboard template (Jinja text of a storyboard YAML), optional variants (the same
storyboard rendered with different settings, e.g. 9:16 and 1:1) and run settings.
Every field carries a description, like the storyboard format's.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "FORMAT_VERSION",
    "PARAMETER_TYPES",
    "RESERVED_NAMES",
    "BooleanParam",
    "ChoiceParam",
    "FileParam",
    "ImagesParam",
    "IntegerParam",
    "NumberParam",
    "Parameter",
    "Recipe",
    "RunSettings",
    "StringParam",
    "StringsParam",
]

FORMAT_VERSION = 1
PARAM_NAME = r"^[a-z_][a-z0-9_]*$"
RECIPE_NAME = r"^[a-z0-9][a-z0-9-]*$"
RESERVED_NAMES = frozenset({"row_number", "variant", "recipe", "row"})
"""Names the template context sets itself; parameters can't use them."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Param(_Model):
    description: str = Field("", description="What the parameter is for (shown by `recipe show`).")

    @property
    def required(self) -> bool:
        """A parameter without a default must be given."""
        return getattr(self, "default", None) is None

    def constraints(self) -> str:
        """The rules a value must follow, in a few words (empty when any value goes)."""
        return ""


class StringParam(_Param):
    """Free text (a product name, a tagline, a prompt fragment)."""

    type: Literal["string"] = Field(description="string")
    default: str | None = Field(None, description="Value when none is given.")
    min_length: int = Field(0, ge=0, description="Fewest characters.")
    max_length: int | None = Field(None, ge=1, description="Most characters.")
    pattern: str | None = Field(None, description="A regular expression the whole value matches.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from exc
        return value

    def constraints(self) -> str:
        parts = []
        if self.min_length == 1:
            parts.append("not empty")
        elif self.min_length:
            parts.append(f"at least {self.min_length} characters")
        if self.max_length is not None:
            parts.append(f"at most {self.max_length} characters")
        if self.pattern:
            parts.append(f"matching {self.pattern}")
        return ", ".join(parts)


class _Range(_Param):
    def _range(self, low: float | None, high: float | None) -> str:
        if low is not None and high is not None:
            return f"{low:g} to {high:g}"
        if low is not None:
            return f"at least {low:g}"
        return f"at most {high:g}" if high is not None else ""


class IntegerParam(_Range):
    """A whole number, optionally within a range (seconds per shot, a count)."""

    type: Literal["integer"] = Field(description="integer")
    default: int | None = Field(None, description="Value when none is given.")
    min: int | None = Field(None, description="Smallest allowed value.")
    max: int | None = Field(None, description="Largest allowed value.")

    def constraints(self) -> str:
        return self._range(self.min, self.max)


class NumberParam(_Range):
    """A number, optionally within a range (a volume, a duration in seconds)."""

    type: Literal["number"] = Field(description="number")
    default: float | None = Field(None, description="Value when none is given.")
    min: float | None = Field(None, description="Smallest allowed value.")
    max: float | None = Field(None, description="Largest allowed value.")

    def constraints(self) -> str:
        return self._range(self.min, self.max)


class BooleanParam(_Param):
    """Yes or no (true/false, yes/no, 1/0)."""

    type: Literal["boolean"] = Field(description="boolean")
    default: bool | None = Field(None, description="Value when none is given.")


class ChoiceParam(_Param):
    """One of a fixed list of values (a mode, a style)."""

    type: Literal["choice"] = Field(description="choice")
    choices: list[str | int | float] = Field(min_length=1, description="The allowed values.")
    default: str | int | float | None = Field(None, description="Value when none is given.")

    def constraints(self) -> str:
        return "one of " + ", ".join(str(c) for c in self.choices)


class FileParam(_Param):
    """A local file: relative to the recipe (defaults), the rows file (rows) or the
    current folder (``--param``); it must exist."""

    type: Literal["file"] = Field(description="file")
    default: str | None = Field(None, description="File relative to the recipe.")
    extensions: list[str] | None = Field(
        None, description="Allowed suffixes, e.g. [.mp3, .wav] (any when omitted)."
    )

    def constraints(self) -> str:
        return "a file" + (f" ({', '.join(self.extensions)})" if self.extensions else "")


class ImagesParam(_Param):
    """A list of local PNG/JPG images (element references, first frames)."""

    type: Literal["images"] = Field(description="images")
    default: list[str] | None = Field(None, description="Images relative to the recipe.")
    min_items: int = Field(1, ge=0, description="Fewest images.")
    max_items: int | None = Field(None, ge=1, description="Most images.")

    def constraints(self) -> str:
        most = f"-{self.max_items}" if self.max_items is not None else "+"
        return f"{self.min_items}{most} PNG/JPG images"


class StringsParam(_Param):
    """A list of texts (story beats, captions)."""

    type: Literal["strings"] = Field(description="strings")
    default: list[str] | None = Field(None, description="Value when none is given.")
    min_items: int = Field(1, ge=0, description="Fewest items.")
    max_items: int | None = Field(None, ge=1, description="Most items.")
    max_length: int | None = Field(None, ge=1, description="Most characters per item.")

    def constraints(self) -> str:
        most = f"-{self.max_items}" if self.max_items is not None else "+"
        each = f", each at most {self.max_length} characters" if self.max_length else ""
        return f"{self.min_items}{most} texts{each}"


Parameter = Annotated[
    StringParam
    | IntegerParam
    | NumberParam
    | BooleanParam
    | ChoiceParam
    | FileParam
    | ImagesParam
    | StringsParam,
    Field(discriminator="type"),
]
PARAMETER_TYPES = ("string", "integer", "number", "boolean", "choice", "file", "images", "strings")


class RunSettings(_Model):
    """How the recipe's storyboards are rendered (command-line options override these)."""

    backend: Literal["auto", "offline", "kie"] = Field(
        "auto", description="auto (kie.ai when KIE_API_KEY is set, else offline), offline or kie."
    )
    concurrency: int = Field(
        4, ge=1, le=256, description="Generations in flight at once, across the whole batch."
    )
    rate: float = Field(5.0, gt=0, description="API requests per second, across the whole batch.")
    budget: float | None = Field(
        None, ge=0, description="Refuse to start when the batch's estimate exceeds this (credits)."
    )
    output: str = Field(
        "{{ row_number }}-{{ recipe | slug }}.mp4",
        description="Output file per storyboard, relative to --out; a Jinja template over the "
        "parameters, row_number, variant and recipe (filter `slug` makes text file-safe).",
    )


class Recipe(_Model):
    """A whole recipe file."""

    recipe: Literal[1] = Field(description="Recipe format version; 1.")
    name: str = Field(pattern=RECIPE_NAME, description="Short name (lowercase, digits, -).")
    description: str = Field(min_length=1, description="What the recipe makes, in a sentence.")
    parameters: dict[str, Parameter] = Field(
        default_factory=dict, description="Typed parameters; defaults make the shipped example."
    )
    variants: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Named variants: each renders the storyboard once more, with these extra "
        "template variables (e.g. {vertical: {aspect_ratio: '9:16'}}).",
    )
    run: RunSettings = Field(default_factory=RunSettings, description="Run settings.")
    storyboard: str = Field(
        min_length=1, description="The storyboard template: Jinja text of a storyboard YAML."
    )

    @field_validator("parameters")
    @classmethod
    def _param_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(PARAM_NAME, name):
                raise ValueError(f"parameter name {name!r}: use lowercase letters, digits and _")
            if name in RESERVED_NAMES:
                raise ValueError(f"parameter name {name!r} is reserved; choose another")
        return value

    @field_validator("variants")
    @classmethod
    def _variant_names(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, extra in value.items():
            if not re.match(RECIPE_NAME, name):
                raise ValueError(f"variant name {name!r}: use lowercase letters, digits and -")
            for key in extra:
                if not re.match(PARAM_NAME, key):
                    raise ValueError(f"variant {name!r}: variable {key!r} is not a valid name")
        return value

    @model_validator(mode="after")
    def _variants_do_not_shadow(self) -> Recipe:
        for name, extra in self.variants.items():
            clash = sorted(set(extra) & (set(self.parameters) | RESERVED_NAMES))
            if clash:
                raise ValueError(f"variant {name!r} sets {', '.join(clash)}, which is a parameter")
        return self
