"""The root of storyboard's exceptions, and the exit code each one carries.

Every error storyboard raises on purpose derives from :class:`StoryboardError`, which
carries its command-line exit code as a class attribute (as click's ``ClickException``
does). The CLI maps them all in one place (:func:`storyboard.cli.console.report_error`):
the message — or the diagnostics, one ``FILE:LINE:COL`` line each — on stderr, and the
exit code of the class. Classes that were ``ValueError``/``RuntimeError`` stay so::

    StoryboardError                  exit 1: something failed while running
    ├── InputError                   exit 2: the input can't be used; fix it, run again
    │   ├── StoryboardInvalid, RecipeInvalid, RowsInvalid, InstanceInvalid,
    │   │   DocumentError            (validate, recipes: with ``diagnostics``)
    │   ├── UnreadableFile, TemplateProblem, ParamError, RecipeNotFound
    │   ├── SettingsError            (an environment variable)
    │   ├── BackendUnavailable, PlanError, LockError, PickError, OutsideFolder
    │   ├── JournalError, JournalLockError (JournalBusy), OutputRefused
    │   └── ExportUnavailable, ProjectExists
    ├── Refused                      exit 3: the cost gate refused; nothing was paid
    │   ├── BudgetExceeded
    │   └── CostRefused
    ├── GenerationError (UncertainTask), AssemblyFailed, ClusterUnavailable
    ├── KieError                     (the kie.ai client: KieApiError, PollTimeout, ...)
    ├── EditError, AssemblyError, FFmpegError
    └── ActionRefused, Unavailable   (the review page)
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_REFUSED",
    "InputError",
    "Refused",
    "StoryboardError",
]

EXIT_FAILED = 1
"""Something went wrong while running (a generation failed, the service refused, ...)."""
EXIT_INVALID = 2
"""The input is invalid (storyboard, recipe, parameters, options, environment, journal)."""
EXIT_REFUSED = 3
"""The cost gate refused: over the budget, or spending not confirmed; nothing was paid."""


class StoryboardError(Exception):
    """Base of every error storyboard raises on purpose; ``exit_code`` is the CLI's."""

    exit_code: ClassVar[int] = EXIT_FAILED


class InputError(StoryboardError):
    """The input cannot be used (a file, a value, an option, the journal); the message
    says what to fix."""

    exit_code: ClassVar[int] = EXIT_INVALID


class Refused(StoryboardError):
    """The cost gate refused to start; nothing was submitted."""

    exit_code: ClassVar[int] = EXIT_REFUSED
