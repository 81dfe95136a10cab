"""The public API is what ``storyboard/__init__.py`` exports, and all of it resolves."""

from __future__ import annotations

import types

import storyboard


def test_all_names_resolve() -> None:
    for name in storyboard.__all__:
        assert getattr(storyboard, name) is not None, name


def test_all_is_complete() -> None:
    public = {
        n
        for n, v in vars(storyboard).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    assert public <= set(storyboard.__all__), public - set(storyboard.__all__)


def test_dir_lists_the_lazy_names() -> None:
    assert set(storyboard.__all__) <= set(dir(storyboard))


def test_unknown_names_raise_attribute_error() -> None:
    try:
        _ = storyboard.no_such_name  # type: ignore[attr-defined]
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover - the assertion is the test
        raise AssertionError("storyboard.no_such_name resolved")
