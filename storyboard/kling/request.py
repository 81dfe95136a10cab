"""Typed models of the Kling 3.0 createTask request body, as the seed's schema defines it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from storyboard.kling.limits import ASPECT_RATIOS, MODEL, AspectRatio, Mode, ModelName, choices_text

__all__ = ["MODEL", "CreateTaskRequest", "KlingElement", "KlingInput", "ShotPrompt"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShotPrompt(_Body):
    """One shot of a multi-shot generation."""

    prompt: str = Field(description="Prompt text of this shot (at most 500 characters).")
    duration: int = Field(description="Duration of this shot in seconds (1-12).")


class KlingElement(_Body):
    """An element referenced as ``@name`` in prompts."""

    name: str = Field(description="Element name, used in prompts with an @ prefix.")
    description: str = Field(description="Element description (at most 100 characters).")
    element_input_urls: list[str] | None = Field(
        None, description="2-4 reference image URLs (JPG/PNG, >=300x300 px, <=10 MB)."
    )
    element_input_video_urls: list[str] | None = Field(
        None, description="1 reference video URL (MP4/MOV, <=50 MB)."
    )


class KlingInput(_Body):
    """The ``input`` object of a createTask body.

    The seed's schema lists prompt, sound, duration, mode, multi_shots and multi_prompt
    as required, so all six are always sent: single-shot bodies carry an empty
    ``multi_prompt``; multi-shot bodies carry the shots' prompts joined in ``prompt``.
    """

    prompt: str = Field(description="Single-shot prompt (takes effect when multi_shots is false).")
    image_urls: list[str] | None = Field(
        None, description="[first frame] or [first frame, last frame] (single-shot only)."
    )
    sound: bool = Field(description="Generate sound effects; must be true in multi-shot mode.")
    duration: str = Field(description='Total duration in seconds as a string, "3".."15".')
    aspect_ratio: AspectRatio | None = Field(None, description=f"{choices_text(ASPECT_RATIOS)}.")
    mode: Mode = Field(description="std (720p), pro (1080p) or 4K (live service only).")
    multi_shots: bool = Field(description="Multi-shot mode.")
    multi_prompt: list[ShotPrompt] = Field(description="The shots (multi-shot mode).")
    kling_elements: list[KlingElement] | None = Field(
        None, description="Elements the prompts reference."
    )


class CreateTaskRequest(_Body):
    """A whole createTask body."""

    model: ModelName = Field(MODEL, description="Model name.")
    callBackUrl: str | None = Field(None, description="Completion callback URL.")
    input: KlingInput = Field(description="Generation parameters.")

    def to_body(self) -> dict[str, Any]:
        """The JSON body as sent: unset optional fields are left out."""
        return self.model_dump(mode="json", exclude_none=True)
