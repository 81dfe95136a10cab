"""Every error the kie.ai client raises, in one tree.

Third-party errors (httpx, JSON decoding, pydantic) are converted at the client's
boundary with ``raise ... from exc``; callers catch only these classes::

    KieError                          any failure talking to kie.ai
    ├── KieApiError                   the service answered with a non-200 ``code``
    │   ├── KieAuthError              401  missing or wrong API key
    │   ├── InsufficientCredits       402  top up the account
    │   ├── NotFound                  404  unknown task, file or endpoint
    │   ├── ValidationRejected        422  the request broke a rule (``msg`` says which)
    │   │   └── TaskNotVisible        422 "recordInfo is null" / ``data: null``: not yet
    │   ├── RateLimited               429  retryable; honours ``Retry-After``
    │   ├── ServiceUnavailable        455  retryable; maintenance
    │   ├── ServerError               500  retryable
    │   ├── GenerationFailed          501  the task ended ``fail`` (``fail_code``, ``fail_msg``)
    │   ├── FeatureDisabled           505
    │   └── UnexpectedResponse        not an envelope, or ``data`` of the wrong shape
    ├── KieTransportError             network error or timeout; retryable
    │   └── CreateTaskUncertain       createTask may have reached the server: never retried
    ├── PollTimeout                   the task did not finish within the poll timeout
    └── DownloadError                 a result file could not be fetched
        ├── ResultExpired             404/403/410 on a result URL (they expire after ~24 h)
        ├── DownloadTooLarge          over the size cap
        └── UnexpectedContentType     not ``video/*`` or ``application/octet-stream``

Each error carries the context the caller passed (``task_id``, ``scene``) and the
endpoint it concerns. ``retryable`` says whether the client's retry policy may repeat
the call. No error message ever contains the API key.
"""

from __future__ import annotations

from typing import ClassVar, TypedDict, Unpack

from storyboard.errors import StoryboardError

__all__ = [
    "ApiErrorContext",
    "CreateTaskUncertain",
    "DownloadError",
    "DownloadTooLarge",
    "ErrorContext",
    "FeatureDisabled",
    "GenerationFailed",
    "InsufficientCredits",
    "KieApiError",
    "KieAuthError",
    "KieError",
    "KieTransportError",
    "NotFound",
    "PollTimeout",
    "RateLimited",
    "ResultExpired",
    "ServerError",
    "ServiceUnavailable",
    "TaskNotVisible",
    "UnexpectedContentType",
    "UnexpectedResponse",
    "ValidationRejected",
    "error_for_code",
]


class KieError(StoryboardError):
    """Base of every kie.ai client error."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        task_id: str | None = None,
        scene: str | None = None,
    ) -> None:
        self.message = message
        self.endpoint = endpoint
        self.task_id = task_id
        self.scene = scene
        super().__init__(self._describe())

    def _describe(self) -> str:
        context = [
            f"{name}={value}"
            for name, value in (
                ("scene", self.scene),
                ("task", self.task_id),
                ("endpoint", self.endpoint),
            )
            if value
        ]
        return f"{self.message} ({', '.join(context)})" if context else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ErrorContext(TypedDict, total=False):
    """Where an error happened: the keywords every error takes."""

    endpoint: str | None
    task_id: str | None
    scene: str | None


class ApiErrorContext(ErrorContext, total=False):
    """What an answer with a non-200 code adds."""

    code: int | None
    retry_after: float | None


class KieApiError(KieError):
    """The service answered with a non-200 envelope ``code``."""

    code: int = 0

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        retry_after: float | None = None,
        **context: Unpack[ErrorContext],
    ) -> None:
        if code is not None:
            self.code = code
        self.retry_after = retry_after
        super().__init__(message, **context)

    def _describe(self) -> str:
        return f"kie.ai code {self.code}: {super()._describe()}"


class KieAuthError(KieApiError):
    """401: the API key is missing or wrong."""

    code = 401


class InsufficientCredits(KieApiError):
    """402: the account has too few credits for this generation."""

    code = 402


class NotFound(KieApiError):
    """404: the task, file or endpoint does not exist."""

    code = 404


class ValidationRejected(KieApiError):
    """422: the request broke a rule; the message names it."""

    code = 422


class TaskNotVisible(ValidationRejected):
    """recordInfo answered 422 "recordInfo is null" or ``data: null``: right after
    createTask the live service may not show the task yet. Polling keeps going for
    ``PollPolicy.not_visible_timeout`` seconds before giving up."""


class RateLimited(KieApiError):
    """429: too many requests; retried after ``retry_after`` seconds when given."""

    code = 429
    retryable = True


class ServiceUnavailable(KieApiError):
    """455: the service is under maintenance; retried."""

    code = 455
    retryable = True


class ServerError(KieApiError):
    """500 (or another 5xx from a gateway): retried."""

    code = 500
    retryable = True


class GenerationFailed(KieApiError):
    """501: the generation failed. A new task may be created under a retry budget."""

    code = 501

    def __init__(
        self,
        message: str,
        *,
        fail_code: str | None = None,
        fail_msg: str | None = None,
        **rest: Unpack[ApiErrorContext],
    ) -> None:
        self.fail_code = fail_code
        self.fail_msg = fail_msg
        super().__init__(message, **rest)


class FeatureDisabled(KieApiError):
    """505: the feature is disabled for this account or model."""

    code = 505


class UnexpectedResponse(KieApiError):
    """The answer was not a kie.ai envelope, or its ``data`` had the wrong shape."""


class KieTransportError(KieError):
    """The request failed on the network (connection refused, reset, timeout)."""

    retryable = True


class CreateTaskUncertain(KieTransportError):
    """createTask failed after the request may have reached the server.

    The task may or may not exist (and may be billed). The client never repeats it;
    the caller decides, e.g. from its journal, whether to create another task.
    """

    retryable = False


class PollTimeout(KieError):
    """The task did not reach ``success`` or ``fail`` within the poll timeout."""


class DownloadError(KieError):
    """A result file could not be downloaded."""

    def __init__(
        self, message: str, *, status: int | None = None, **context: Unpack[ErrorContext]
    ) -> None:
        self.status = status
        super().__init__(message, **context)


class ResultExpired(DownloadError):
    """The result URL answered 404/403/410: result URLs expire after about 24 hours."""


class DownloadTooLarge(DownloadError):
    """The file is larger than the download size cap."""


class UnexpectedContentType(DownloadError):
    """The server sent something other than a video."""


_BY_CODE: dict[int, type[KieApiError]] = {
    cls.code: cls
    for cls in (
        KieAuthError,
        InsufficientCredits,
        NotFound,
        ValidationRejected,
        RateLimited,
        ServiceUnavailable,
        ServerError,
        GenerationFailed,
        FeatureDisabled,
    )
}


def error_for_code(code: int) -> type[KieApiError]:
    """The error class for an envelope code (unknown 5xx count as server errors)."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    return ServerError if 500 <= code < 600 else KieApiError
