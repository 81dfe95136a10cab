"""Bounded reading and rendering: limits hit give one diagnostic with file:line, and
ordinary templates and documents are untouched by them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storyboard.sandbox import MAX_SIZE
from storyboard.source import DocumentError, parse_document
from storyboard.templating import TemplateProblem, make_environment, render_string
from storyboard.textfile import UnreadableFile, read_text_file


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ [1, 2] | join('-') }}", "ababab 1024 1-2"),
        ("{{ '%05d|%s' % (42, 'x') }} {{ '{:>4}'.format(7) }}", "00042|x    7"),
        ("{% for i in range(3) %}{{ i ~ ',' }}{% endfor %}", "0,1,2,"),
        ("{% macro m(n) %}{{ m(n - 1) if n else 'done' }}{% endmacro %}{{ m(20) }}", "done"),
        ("{{ 'a b' | replace(' ', '_') | center(7) | trim }}", "a_b"),
    ],
)
def test_ordinary_templates_render(source: str, expected: str) -> None:
    assert render_string(make_environment(), source, {}) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ 7 ** (10**8) }}", "a power of over"),
        ("{{ 'x' * 10**8 }}", "a repetition would be"),
        ("{{ range(10**7) | list | length }}", "numbers passed to functions"),
        (
            "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
            "more than 1,000,000 loop iterations",
        ),
        ("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}\n{{ m(1) }}", "more than 50 levels"),
        ("{{ ('x' * 60000) ~ ('y' * 60000) }}", "a ~ concatenation"),
        ("{{ 'x' | indent(10**6) }}", "numbers passed"),
        ("{{ ('a\n' * 50000) | indent('    ') }}", "an indent would be"),
    ],
)
def test_costly_templates_are_refused(source: str, message: str) -> None:
    with pytest.raises(TemplateProblem, match="too costly") as caught:
        render_string(make_environment(), source, {})
    assert message in str(caught.value)


def test_output_is_capped() -> None:
    source = "{% for i in range(3) %}{{ 'y' * 40000 }}{% endfor %}"
    with pytest.raises(TemplateProblem, match=f"the limit is {MAX_SIZE:,}"):
        render_string(make_environment(), source, {})


def test_limit_reports_the_template_line() -> None:
    source = "line one\n{{ 'fine' }}\n{{ 9 ** 99999 }}"
    with pytest.raises(TemplateProblem, match="line 3: too costly"):
        render_string(make_environment(), source, {})


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: &a [1, *a]\n", 1, "loop"),
        ("x: " + "[" * 200 + "]" * 200 + "\n", 1, "nested more than 100"),
        ("ok: 1\nbig: " + "1" * 5000 + "\n", 2, "cannot read this value"),
    ],
)
def test_documents_over_the_limits(text: str, line: int, message: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_document(text, "sb.yaml")
    problem = caught.value.diagnostics[0]
    assert problem.line == line and message in problem.message


def test_shared_anchors_within_the_budget_are_fine() -> None:
    text = "base: &b {mode: std, sound: false}\n" + "".join(
        f"s{i}: {{<<: *b, id: s{i}}}\n" for i in range(300)
    )
    data, _ = parse_document(text, "sb.yaml")
    assert data["s299"] == {"mode": "std", "sound": False, "id": "s299"}


def test_text_files_are_regular_capped_and_utf8(tmp_path: Path) -> None:
    good = tmp_path / "a.yaml"
    good.write_text("é\n")
    assert read_text_file(good, limit=10) == "é\n"
    with pytest.raises(UnreadableFile, match="the limit is 2 bytes"):
        read_text_file(good, limit=2)
    bad = tmp_path / "b.yaml"
    bad.write_bytes(b"ok\nab\xffc\n")
    with pytest.raises(UnreadableFile) as caught:
        read_text_file(bad, limit=100)
    assert (caught.value.line, caught.value.column) == (2, 3)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_text_file(fifo, limit=100)
    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_text_file(tmp_path, limit=100)
