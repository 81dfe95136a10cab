"""The collector is paused for a bulk build and always comes back on."""

from __future__ import annotations

import gc

import pytest

from storyboard.gcpause import gc_paused


def test_paused_inside_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: still off, and the outer block turns it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_left_off_when_the_caller_turned_it_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_validate_and_plan_run_with_the_collector_paused() -> None:
    from storyboard.plan import build_plan
    from storyboard.validate import validate

    seen: list[bool] = []

    @gc_paused()
    def probe() -> None:
        seen.append(gc.isenabled())

    probe()
    assert seen == [False] and gc.isenabled()
    assert hasattr(validate, "__wrapped__") and hasattr(build_plan, "__wrapped__")
