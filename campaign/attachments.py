"""Attachments (photos and PDFs): which types are accepted, how large, recognised by content not by name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from campaign.lifecycle import Refused

#: Accepted types: media type -> (leading bytes, file extensions). Recognised by content.
ACCEPTED: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "application/pdf": (b"%PDF-", (".pdf",)),
}
#: Largest accepted attachment (a phone photo or a scanned document).
MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """A file as the user sent it."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class CheckedUpload:
    """An accepted upload: its media type and sha256."""

    filename: str
    media_type: str
    sha256: str


def check_upload(upload: Upload, *, max_bytes: int = MAX_BYTES) -> CheckedUpload:
    """Accept a JPEG, PNG or PDF of at most ``max_bytes``; refuse anything else with a clear message.

    Parameters
    ----------
    upload : Upload
        The file.
    max_bytes : int
        Size limit.

    Returns
    -------
    CheckedUpload

    Raises
    ------
    Refused
        When the file is empty, too large, or not a JPEG, PNG or PDF by its content.

    Examples
    --------
    >>> check_upload(Upload("a.pdf", b"%PDF-1.7 ...")).media_type
    'application/pdf'
    """
    name = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or "附件"
    size = len(upload.content)
    if size == 0:
        raise Refused([(f"附件“{name}”是空文件", f"attachment {name!r} is empty")])
    if size > max_bytes:
        raise Refused([(f"附件“{name}”{size / 1048576:.1f} MB，超过 {max_bytes / 1048576:.0f} MB 上限",
                                  f"attachment {name!r} is {size / 1048576:.1f} MB, over the "
                                  f"{max_bytes / 1048576:.0f} MB limit")])
    for media_type, (magic, _) in ACCEPTED.items():
        if upload.content.startswith(magic):
            return CheckedUpload(name, media_type, hashlib.sha256(upload.content).hexdigest())
    raise Refused([(f"附件“{name}”不是 JPEG、PNG 或 PDF 文件",
                              f"attachment {name!r} is not a JPEG, PNG or PDF")])
