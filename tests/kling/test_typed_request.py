"""Compile's typed request and the body it sends are the same thing, both ways."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyboard.compile import compile_storyboard
from storyboard.kling import CreateTaskRequest, check_model, check_request
from storyboard.load import load_file

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_body_parses_back_to_its_typed_request(example: Path) -> None:
    compiled = compile_storyboard(load_file(example))
    assert compiled.generations
    for generation in compiled.generations:
        text = json.dumps(generation.body)
        assert CreateTaskRequest.model_validate_json(text) == generation.request
        assert check_model(generation.request) == check_request(json.loads(text))
