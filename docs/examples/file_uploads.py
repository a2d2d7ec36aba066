"""File uploads: multipart forms, streamed to disk under a size limit, and served back.

    POST /uploads           -> multipart form with one or more "file" fields: each is saved under
                               UPLOAD_DIR; answers 201 with [{"name", "size", "sha256"}]; 400 without files
                               or with a file name that is not a plain name; 413 past MAX_UPLOAD_BYTES
    GET  /uploads/{name}    -> the file (a FileResponse), or 404

The form parser keeps small parts in memory and spools bigger ones to temporary files; ``async with
request.form()`` closes them at the end. Run it with ``tachyon run file_uploads:app``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from tachyon.applications import Tachyon
from tachyon.datastructures import UploadFile
from tachyon.exceptions import HTTPException
from tachyon.requests import Request
from tachyon.responses import FileResponse, JSONResponse, Response
from tachyon.routing import Route

UPLOAD_DIR = Path(os.environ.get("UPLOAD_DIR") or tempfile.mkdtemp(prefix="uploads-"))
MAX_UPLOAD_BYTES = 1024 * 1024  # per file
CHUNK = 64 * 1024


def safe_name(filename: str | None) -> str:
    name = filename or ""
    if not name or name != Path(name).name or name.startswith("."):
        raise HTTPException(status_code=400, detail=f"not a plain file name: {name!r}")
    return name


async def save(upload: UploadFile) -> dict[str, object]:
    name = safe_name(upload.filename)
    digest, size = hashlib.sha256(), 0
    partial = UPLOAD_DIR / f".{name}.part"
    with partial.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                out.close()
                partial.unlink()
                raise HTTPException(status_code=413, detail=f"{name} is larger than {MAX_UPLOAD_BYTES} bytes")
            digest.update(chunk)
            out.write(chunk)
    partial.replace(UPLOAD_DIR / name)
    return {"name": name, "size": size, "sha256": digest.hexdigest()}


async def upload(request: Request) -> Response:
    async with request.form(max_files=10) as form:
        files = [value for value in form.getlist("file") if isinstance(value, UploadFile)]
        if not files:
            raise HTTPException(status_code=400, detail='send the files as multipart "file" fields')
        saved = [await save(file) for file in files]
    return JSONResponse(saved, status_code=201)


async def download(request: Request) -> Response:
    path = UPLOAD_DIR / safe_name(request.path_params["name"])
    if not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(path)


app = Tachyon(
    routes=[
        Route("/uploads", upload, methods=["POST"]),
        Route("/uploads/{name}", download, methods=["GET"]),
    ]
)
