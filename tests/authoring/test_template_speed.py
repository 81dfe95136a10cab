"""The template fast paths give exactly Jinja's result (speed without a second dialect)."""

from __future__ import annotations

from typing import Any

import jinja2
from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.templating import (
    TemplateProblem,
    compiled,
    make_environment,
    render_simple,
    render_string,
)

ENV = make_environment()
CONTEXT: dict[str, Any] = {
    "place": "a sunlit room",
    "n": 3,
    "d": {"a": 1},
    "nothing": None,
    "true": "shadowed",
    "self": "me",
    "flag": False,
}

PIECES = st.sampled_from(
    [
        "text",
        " ",
        "\n",
        "\r\n",
        "\r",
        "{{ place }}",
        "{{place}}",
        "{{  n  }}",
        "{{ d }}",
        "{{ nothing }}",
        "{{ true }}",
        "{{ self }}",
        "{{ flag }}",
        "{{ missing }}",
        "{{- place }}",
        "{{ place -}}",
        "{{ place|upper }}",
        "{{ 1 + 1 }}",
        "{% if n %}y{% endif %}",
        "{# c #}",
        "}}",
        "{",
        "}",
        "{{",
        "@dog",
        "é…",
    ]
)


def _jinja(source: str) -> str | None:
    try:
        return ENV.from_string(source).render(CONTEXT)
    except jinja2.TemplateError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=8).map("".join))
def test_fast_path_equals_jinja(source: str) -> None:
    fast = render_simple(source, CONTEXT)
    if fast is not None:
        assert fast == _jinja(source), source


def test_fast_path_takes_plain_text_and_known_names_only() -> None:
    assert render_simple("in {{ place }}\n", CONTEXT) == "in a sunlit room"
    assert render_simple("{{ missing }}", CONTEXT) is None
    assert render_simple("{{ true }}", CONTEXT) is None
    assert render_simple("{{ place|upper }}", CONTEXT) is None
    assert render_simple("{% if n %}y{% endif %}", CONTEXT) is None


def test_errors_still_come_from_jinja() -> None:
    try:
        render_string(ENV, "in {{ missing }}", CONTEXT)
    except TemplateProblem as exc:
        assert "missing" in str(exc)
    else:  # pragma: no cover - the assertion is the test
        raise AssertionError("an undefined name rendered")


def test_compiled_templates_are_cached_by_source() -> None:
    source = "{{ place|upper }}"
    assert compiled(ENV, source) is compiled(ENV, source)
    assert compiled(ENV, source).render(CONTEXT) == "A SUNLIT ROOM"
    assert compiled(make_environment(), source) is not compiled(ENV, source)
