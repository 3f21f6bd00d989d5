"""Uploaded files stay in memory: nothing a customs officer sends touches the disk."""

from __future__ import annotations

import io
from typing import IO

from flask import Request


class InMemoryRequest(Request):
    """Werkzeug spools large uploads to a temporary file; this keeps them in memory.

    The request size is capped (``Settings.max_upload_bytes``), so memory is too.
    """

    def _get_file_stream(  # type: ignore[override]
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()
