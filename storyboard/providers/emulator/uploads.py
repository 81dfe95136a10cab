"""Pure parsing of the three upload requests: multipart forms, base64 / data URLs, and
the stored file's name and key."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import secrets
from dataclasses import dataclass
from pathlib import PurePosixPath

from storyboard.providers.emulator.state import ApiFailure

__all__ = [
    "FormPart",
    "decode_base64_data",
    "extension_of",
    "generated_name",
    "guess_mime",
    "live_upload_key",
    "parse_multipart",
    "upload_key",
]

_DATA_URL = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[^,]*)?;base64,(?P<data>.*)", re.S)


@dataclass(frozen=True)
class FormPart:
    """One part of a multipart/form-data body."""

    name: str
    content: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        """The part as UTF-8 text (form fields)."""
        return self.content.decode("utf-8", errors="replace")


def parse_multipart(body: bytes, content_type: str) -> dict[str, FormPart]:
    """The parts of a multipart/form-data body, by field name."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or match is None:
        raise ApiFailure(422, "file-stream-upload expects a multipart/form-data body")
    delimiter = b"--" + match[1].encode("latin-1")
    parts: dict[str, FormPart] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        part = _parse_part(chunk.removeprefix(b"\r\n").removesuffix(b"\r\n"))
        if part is not None:
            parts[part.name] = part
    return parts


def _parse_part(chunk: bytes) -> FormPart | None:
    head, _, content = chunk.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("utf-8", errors="replace").split("\r\n"):
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition", "")
    name = re.search(r'\bname="([^"]*)"', disposition)
    if name is None:
        return None
    filename = re.search(r'\bfilename="([^"]*)"', disposition)
    return FormPart(
        name=name[1],
        content=content,
        filename=filename[1] if filename else None,
        content_type=headers.get("content-type"),
    )


def decode_base64_data(value: str) -> tuple[bytes, str | None]:
    """Bytes and declared MIME type of plain base64 text or a ``data:`` URL."""
    match = _DATA_URL.fullmatch(value.strip())
    text, mime = (match["data"], match["mime"]) if match else (value, None)
    try:
        return base64.b64decode(text, validate=True), mime
    except (binascii.Error, ValueError) as exc:
        raise ApiFailure(422, "base64Data is not valid base64 (or a base64 data URL)") from exc


def guess_mime(name: str, declared: str | None = None) -> str:
    """The declared MIME type, else one guessed from the name."""
    if declared and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(name)[0] or declared or "application/octet-stream"


def upload_key(upload_path: str | None, file_name: str | None, fallback_ext: str = "") -> str:
    """``uploadPath/fileName``, normalised; a random name when none is given."""
    if not upload_path or not upload_path.strip("/"):
        raise ApiFailure(422, "uploadPath is required")
    name = file_name or f"{secrets.token_hex(8)}{fallback_ext}"
    parts = [p for p in PurePosixPath(upload_path.strip("/"), name).parts if p not in ("", ".")]
    if ".." in parts or "/" in name:
        raise ApiFailure(422, "uploadPath and fileName must not contain '..' or '/' in the name")
    return "/".join(parts)


def generated_name(now_ms: int, extension: str) -> str:
    """A live-style generated file name: ``<ms>-<random>.<ext>``."""
    return f"{now_ms}-{secrets.token_hex(4)}{extension}"


def live_upload_key(
    uid: str, upload_path: str | None, file_name: str | None, extension: str, now_ms: int
) -> str:
    """``kieai/<uid>/<uploadPath>/<fileName>``; without a file name, a generated one, so
    two uploads of the same source file never overwrite each other."""
    if not upload_path or not upload_path.strip("/"):
        raise ApiFailure(422, "uploadPath is required")
    name = file_name or generated_name(now_ms, extension)
    return upload_key(f"kieai/{uid}/{upload_path.strip('/')}", name)


def extension_of(name: str | None, mime: str | None = None) -> str:
    """The extension of a file name (``.png``), else one for its MIME type, else none."""
    suffix = PurePosixPath(name or "").suffix.lower()
    if suffix:
        return suffix
    return {"image/png": ".png", "image/jpeg": ".jpg", "video/mp4": ".mp4"}.get(mime or "", "")
