"""The kie.ai provider: an async client (retries, polling, uploads, downloads) and
completion callbacks. See docs/kie.md."""

from storyboard.providers.kie.callbacks import (
    CallbackReceiver,
    sign,
    signature_headers,
    verify_signature,
    wait_with_callback,
)
from storyboard.providers.kie.client import KieClient
from storyboard.providers.kie.errors import (
    CreateTaskUncertain,
    DownloadError,
    DownloadTooLarge,
    FeatureDisabled,
    GenerationFailed,
    InsufficientCredits,
    KieApiError,
    KieAuthError,
    KieError,
    KieTransportError,
    NotFound,
    PollTimeout,
    RateLimited,
    ResultExpired,
    ServerError,
    ServiceUnavailable,
    UnexpectedContentType,
    UnexpectedResponse,
    ValidationRejected,
)
from storyboard.providers.kie.models import (
    FINAL_STATES,
    PENDING_STATES,
    Envelope,
    TaskRecord,
    UploadedFile,
)
from storyboard.providers.kie.polling import PollPolicy, poll_delays
from storyboard.providers.kie.retry import RETRYABLE_CODES, RetryPolicy
from storyboard.providers.kie.settings import (
    DEFAULT_BASE_URL,
    DEFAULT_UPLOAD_BASE_URL,
    KieSettings,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_UPLOAD_BASE_URL",
    "FINAL_STATES",
    "PENDING_STATES",
    "RETRYABLE_CODES",
    "CallbackReceiver",
    "CreateTaskUncertain",
    "DownloadError",
    "DownloadTooLarge",
    "Envelope",
    "FeatureDisabled",
    "GenerationFailed",
    "InsufficientCredits",
    "KieApiError",
    "KieAuthError",
    "KieClient",
    "KieError",
    "KieSettings",
    "KieTransportError",
    "NotFound",
    "PollPolicy",
    "PollTimeout",
    "RateLimited",
    "ResultExpired",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "TaskRecord",
    "UnexpectedContentType",
    "UnexpectedResponse",
    "UploadedFile",
    "ValidationRejected",
    "poll_delays",
    "sign",
    "signature_headers",
    "verify_signature",
    "wait_with_callback",
]
