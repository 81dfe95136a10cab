"""The one Jinja environment: a bounded sandbox, strict about undefined names, our filters.

Prompts are rendered twice: first the shot's own text as a template with the storyboard
``vars`` in scope (variable expansion), then the scene's prompt template (``default``,
``cinematic`` or a user template) with the expanded shot in scope.

User templates are read only from inside the storyboard's folder (symlinks followed;
:mod:`storyboard.workspace`), as regular UTF-8 files of bounded size, and every render
runs within the limits of :mod:`storyboard.sandbox`.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import jinja2
import jinja2.bccache
from jinja2.loaders import split_template_path

from storyboard.diagnostics import FieldPath
from storyboard.errors import InputError
from storyboard.sandbox import MAX_SIZE, BoundedSandbox, TemplateLimit
from storyboard.textfile import MAX_DOCUMENT_BYTES, UnreadableFile, read_text_file
from storyboard.workspace import OutsideFolder, confine, is_inside

__all__ = [
    "Environments",
    "TemplateFolder",
    "TemplateProblem",
    "builtin_dir",
    "compiled",
    "ensure_period",
    "make_environment",
    "render_named",
    "render_simple",
    "render_string",
    "render_template",
    "template_folders",
]


TemplateCause = Literal["undefined", "sandbox", "outside"]
"""Why a template failed, where callers act on it (a hint): an undefined variable, a
sandbox refusal, a template file outside the storyboard's folder."""


class TemplateProblem(InputError):
    """A template could not be rendered; the message says why, in the user's terms.

    ``field`` is the storyboard field to blame when it is not the one being rendered
    (a ``templates:`` folder whose file is a link leading outside, say).
    """

    def __init__(
        self,
        message: str,
        field: FieldPath | None = None,
        *,
        limit: bool = False,
        cause: TemplateCause | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.limit = limit
        """True when a sandbox limit (work, size, time, depth) was hit."""
        self.cause = cause
        """Why, when callers act on it (never read from the message)."""


class _TemplateFileProblem(jinja2.TemplateError):
    """A template file that must not or cannot be read (raised by the loader)."""

    def __init__(self, message: str, folder_index: int | None, *, outside: bool = False) -> None:
        super().__init__(message)
        self.folder_index = folder_index
        self.outside = outside


def builtin_dir(kind: str) -> Path:
    """Folder of built-in ``templates`` or ``pipelines`` (installed wheel or source tree)."""
    installed = Path(str(resources.files("storyboard"))) / "_builtin" / kind
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / kind


def ensure_period(text: str) -> str:
    """Append a full stop unless the text already ends in punctuation."""
    text = text.rstrip()
    return text if not text or text[-1] in ".!?…\"'" else text + "."


@dataclass(frozen=True)
class TemplateFolder:
    """A folder of user templates: its index under ``templates:`` and where it is."""

    index: int
    path: Path


def template_folders(
    base_dir: Path, entries: Sequence[str], *, allow_outside: bool = False
) -> tuple[list[TemplateFolder], list[tuple[int, str]]]:
    """The ``templates:`` folders inside the storyboard's folder, and (index, message)
    for each entry that resolves outside it (unless ``allow_outside``)."""
    folders: list[TemplateFolder] = []
    refused: list[tuple[int, str]] = []
    for index, entry in enumerate(entries):
        try:
            folders.append(
                TemplateFolder(index, confine(base_dir, entry, allow_outside=allow_outside))
            )
        except OutsideFolder as exc:
            refused.append(
                (
                    index,
                    f"template folder {entry!r} resolves to {exc.path}, "
                    "outside the storyboard's folder",
                )
            )
    return folders, refused


class _ConfinedLoader(jinja2.BaseLoader):
    """Templates by name from the user's folders, then the built-ins; a user template
    whose real path (symlinks followed) leaves ``root`` is refused, not read."""

    def __init__(self, folders: Sequence[TemplateFolder], root: Path | None) -> None:
        self.folders = [*folders, TemplateFolder(-1, builtin_dir("templates"))]
        self.root = root

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        for folder in self.folders:
            candidate = folder.path.joinpath(*pieces)
            if candidate.is_file():
                return self._read(candidate, template, folder)
        raise jinja2.TemplateNotFound(template)

    def _read(
        self, candidate: Path, name: str, folder: TemplateFolder
    ) -> tuple[str, str, Callable[[], bool]]:
        index = folder.index if folder.index >= 0 else None
        if index is not None and self.root is not None and not is_inside(self.root, candidate):
            real = os.path.realpath(candidate)
            raise _TemplateFileProblem(
                f"template {name!r} is a link to {real}, outside the storyboard's folder",
                index,
                outside=True,
            )
        try:
            text = read_text_file(candidate, limit=MAX_DOCUMENT_BYTES)
        except UnreadableFile as exc:
            message = f"template {name!r} can't be read: {exc.message}"
            raise _TemplateFileProblem(message, index) from exc
        if "\x00" in text:
            raise _TemplateFileProblem(f"template {name!r} is a binary file, not text", index)
        mtime = candidate.stat().st_mtime
        return text, os.path.normpath(candidate), lambda: candidate.stat().st_mtime == mtime


class _SharedBytecode(jinja2.BytecodeCache):
    """Compiled template code shared by every environment :func:`make_environment` makes.

    Those environments have identical settings, so a template file compiles to the same
    code in each; Jinja keys a bucket by the template's name and file and rejects it when
    the source's checksum differs. A batch of recipe rows (one environment per row)
    compiles each named template once instead of once per row.
    """

    def __init__(self, limit: int = 256) -> None:
        self._store: dict[str, bytes] = {}
        self._limit = limit

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if len(self._store) >= self._limit:
            self._store.clear()
        self._store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


def make_environment(
    user_dirs: Sequence[Path | TemplateFolder] = (), *, root: Path | None = None
) -> BoundedSandbox:
    """The bounded sandbox; user template folders override built-ins by name. With
    ``root``, every user template must resolve inside it (see :func:`template_folders`
    for checking the folders themselves)."""
    folders = [
        d if isinstance(d, TemplateFolder) else TemplateFolder(i, d)
        for i, d in enumerate(user_dirs)
    ]
    env = BoundedSandbox(
        loader=_ConfinedLoader(folders, root),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        bytecode_cache=_BYTECODE,
    )
    env.filters["ensure_period"] = ensure_period
    return env


class Environments:
    """Sandboxes by template folders, for many storyboards compiled one after another (a
    recipe batch's rows): building one costs far more than rendering a prompt with it.

    A sandbox holds nothing of a storyboard between renders but compiled templates (each
    render gets its own budget), so storyboards with the same folders may share one. Its
    template files are read once: only for a run in which they do not change."""

    def __init__(self) -> None:
        self._made: dict[tuple[tuple[TemplateFolder, ...], Path | None], BoundedSandbox] = {}

    def get(self, folders: Sequence[TemplateFolder], root: Path | None) -> BoundedSandbox:
        """The sandbox :func:`make_environment` makes for ``folders`` and ``root``."""
        key = (tuple(folders), root)
        env = self._made.get(key)
        if env is None:
            env = self._made[key] = make_environment(folders, root=root)
            env.auto_reload = False  # the templates do not change meanwhile: no stat per use
        return env


def render_string(env: jinja2.Environment, source: str, context: dict[str, Any]) -> str:
    """Render template text; raise :class:`TemplateProblem` with a readable reason.

    Text that is plain or only substitutes names from ``context`` (``{{ place }}``) is
    rendered without Jinja (compiling a template costs ~1 ms; a 1,000-scene storyboard
    has thousands of prompts), with exactly Jinja's result and within the sandbox's
    output size; anything else is compiled once per source text and environment
    (:func:`compiled`) and rendered in the bounded sandbox.
    """
    simple = render_simple(source, context, max_size=MAX_SIZE)
    if simple is not None:
        return simple
    try:
        template = compiled(env, source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"template syntax error: {exc.message}") from exc
    return _render(template, context, "")


def _has_jinja_syntax(source: str) -> bool:
    return "{{" in source or "{%" in source or "{#" in source


def _as_jinja_renders(text: str) -> str:
    """Plain text as Jinja renders it (newlines normalised, one trailing newline dropped),
    without compiling a template for it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.removesuffix("\n")


_SIMPLE_NAME = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_JINJA_WORDS = frozenset(
    [
        "and",
        "or",
        "not",
        "in",
        "is",
        "if",
        "else",
        "true",
        "false",
        "none",
        "True",
        "False",
        "None",
        "self",
        "loop",
        "super",
        "caller",
        "varargs",
        "kwargs",
    ]
)
"""Literals, operators and special names: Jinja does not look these up in the context."""
_NEWLINE = re.compile(r"\r\n|\r|\n")


def render_simple(
    source: str, context: dict[str, Any], *, max_size: int | None = None
) -> str | None:
    """Jinja's rendering of ``source`` when it is only text and ``{{ name }}`` of names in
    ``context``; None for anything else (statements, comments, filters, expressions,
    whitespace control, unknown names), which must go through Jinja."""
    if "{%" in source or "{#" in source:
        return None
    at = source.find("{{")
    while at >= 0:  # every "{{" must open a plain {{ name }}, as Jinja's lexer sees it
        match = _SIMPLE_NAME.match(source, at)
        if match is None or match[1] not in context or match[1] in _JINJA_WORDS:
            return None
        at = source.find("{{", match.end())
    text = _NEWLINE.sub("\n", source)  # Jinja's newline_sequence ...
    text = text.removesuffix("\n")  # ... and keep_trailing_newline=False
    pieces, size, at = [], 0, 0
    for match in _SIMPLE_NAME.finditer(text):
        pieces += [text[at : match.start()], str(context[match[1]])]
        size += len(pieces[-2]) + len(pieces[-1])
        if max_size is not None and size > max_size:
            return None  # too big: Jinja's bounded sandbox reports it
        at = match.end()
    pieces.append(text[at:])
    return "".join(pieces)


_COMPILED: weakref.WeakKeyDictionary[jinja2.Environment, dict[str, jinja2.Template]] = (
    weakref.WeakKeyDictionary()
)
_COMPILED_PER_ENV = 4096


def compiled(env: jinja2.Environment, source: str) -> jinja2.Template:
    """``env.from_string(source)``, cached by source text for each environment."""
    cache = _COMPILED.setdefault(env, {})
    template = cache.get(source)
    if template is None:
        if len(cache) >= _COMPILED_PER_ENV:
            cache.clear()
        template = cache[source] = env.from_string(source)
    return template


def render_named(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Render the template ``<name>.j2``; raise :class:`TemplateProblem` when it fails."""
    try:
        template = env.get_template(f"{name}.j2")
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(
            f"no prompt template named {name!r} (built-ins: default, cinematic)"
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"template {name!r} line {exc.lineno}: {exc.message}") from exc
    except _TemplateFileProblem as exc:
        raise _file_problem(exc) from exc
    return _render(template, context, f"template {name!r}: ")


def render_template(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render a compiled template; raise :class:`TemplateProblem` when it fails."""
    return _render(template, context, "")


def _render(template: jinja2.Template, context: dict[str, Any], prefix: str) -> str:
    try:
        return template.render(context)
    except TemplateLimit as exc:
        where = _where(exc.__traceback__)
        raise TemplateProblem(f"{prefix}{where}too costly: {exc}", limit=exc.slow) from exc
    except RecursionError as exc:
        message = "templates include or call each other too deeply (one includes itself?)"
        raise TemplateProblem(f"{prefix}{message}", limit=True) from exc
    except _TemplateFileProblem as exc:
        raise _file_problem(exc) from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(
            f"{prefix}{_where(exc.__traceback__)}no template named "
            f"{exc.name!r} in the storyboard's template folders"
        ) from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateProblem(
            f"{prefix}not allowed in the sandbox: {exc}", cause="sandbox"
        ) from exc
    except jinja2.UndefinedError as exc:
        message = f"{prefix}undefined variable: {exc.message}"
        raise TemplateProblem(message, cause="undefined") from exc
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"{prefix}template error: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateProblem(f"{prefix}template error: {exc}") from exc


def _file_problem(exc: _TemplateFileProblem) -> TemplateProblem:
    field = ("templates", exc.folder_index) if exc.folder_index is not None else None
    return TemplateProblem(str(exc.message), field, cause="outside" if exc.outside else None)


def _where(traceback: TracebackType | None) -> str:
    """``"x.j2 line 3: "`` for the innermost template frame of ``traceback``."""
    found = ""
    while traceback is not None:
        frame = traceback.tb_frame
        if "__jinja_exception__" in frame.f_globals:
            name = frame.f_code.co_filename
            label = "line" if name == "<template>" else f"{Path(name).name} line"
            found = f"{label} {traceback.tb_lineno}: "
        traceback = traceback.tb_next
    return found
