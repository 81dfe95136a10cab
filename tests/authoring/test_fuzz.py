"""Random documents never crash loading or validation; they only produce diagnostics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.load import load_text
from storyboard.validate import validate_loaded

KEYS = [
    "storyboard",
    "title",
    "scenes",
    "shots",
    "prompt",
    "duration",
    "id",
    "elements",
    "images",
    "video",
    "first_frame",
    "last_frame",
    "from",
    "edit",
    "transitions",
    "between",
    "output",
    "defaults",
    "mode",
    "vars",
    "template",
    "camera",
    "titles",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 30),
    st.floats(allow_nan=False, width=32),
    st.sampled_from(
        [
            "pro",
            "std",
            "16:9",
            "a",
            "{{ x }}",
            "@dog",
            "refs/room.png",
            "https://e.com/x.png",
            "{% for %}",
            "",
            "1",
        ]
    ),
    st.text(max_size=12),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=25,
)


def plausible(doc: Any) -> dict[str, Any]:
    """Bias towards documents that get past the first checks."""
    scenes = doc if isinstance(doc, list) else [doc]
    return {"storyboard": 1, "title": "fuzz", "scenes": scenes}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_do_not_crash(doc: Any) -> None:
    for candidate in (doc, plausible(doc)):
        text = yaml.safe_dump(candidate, allow_unicode=True)
        loaded = load_text(text, Path("/nonexistent/fuzz.yaml"))
        report = validate_loaded(loaded)
        for item in report.diagnostics:
            assert item.line >= 1 and item.column >= 1 and str(item)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_random_text_does_not_crash(text: str) -> None:
    loaded = load_text(text, Path("/nonexistent/fuzz.yaml"))
    validate_loaded(loaded)
