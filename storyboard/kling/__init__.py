"""The Kling 3.0 createTask contract: request models, limits and the rules that check them."""

from storyboard.kling.limits import DEFAULT_LIMITS, KlingLimits
from storyboard.kling.request import (
    MODEL,
    CreateTaskRequest,
    KlingElement,
    KlingInput,
    ShotPrompt,
)
from storyboard.kling.rules import Rule, Violation, check_model, check_request, element_refs

__all__ = [
    "DEFAULT_LIMITS",
    "MODEL",
    "CreateTaskRequest",
    "KlingElement",
    "KlingInput",
    "KlingLimits",
    "Rule",
    "ShotPrompt",
    "Violation",
    "check_model",
    "check_request",
    "element_refs",
]
