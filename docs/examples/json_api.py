"""A JSON API: a small in-memory notes service.

    GET    /notes             -> the notes, oldest first ({"id", "text"} objects)
    POST   /notes             -> 201 and the new note; 400 for a body that is not a JSON object with a
                                 non-empty "text" string
    GET    /notes/{id:int}    -> the note, or 404
    DELETE /notes/{id:int}    -> 204, or 404

Run it with ``tachyon run json_api:app`` (or any ASGI server).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from tachyon.applications import Tachyon
from tachyon.exceptions import HTTPException
from tachyon.requests import Request
from tachyon.responses import JSONResponse, Response
from tachyon.routing import Route

MAX_TEXT_LENGTH = 1000
notes: dict[int, dict[str, Any]] = {}
next_id = itertools.count(1)


def find_note(request: Request) -> dict[str, Any]:
    note = notes.get(request.path_params["id"])
    if note is None:
        raise HTTPException(status_code=404, detail="no such note")
    return note


async def list_notes(request: Request) -> Response:
    return JSONResponse(list(notes.values()))


async def create_note(request: Request) -> Response:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise HTTPException(status_code=400, detail="the body is not JSON") from None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
        raise HTTPException(status_code=400, detail=f'"text" must be a string of 1 to {MAX_TEXT_LENGTH} characters')
    note = {"id": next(next_id), "text": text}
    notes[note["id"]] = note
    return JSONResponse(note, status_code=201, headers={"Location": str(request.url_for("note", id=note["id"]))})


async def get_note(request: Request) -> Response:
    return JSONResponse(find_note(request))


async def delete_note(request: Request) -> Response:
    del notes[find_note(request)["id"]]
    return Response(status_code=204)


app = Tachyon(
    routes=[
        Route("/notes", list_notes, methods=["GET"]),
        Route("/notes", create_note, methods=["POST"]),
        Route("/notes/{id:int}", get_note, methods=["GET"], name="note"),
        Route("/notes/{id:int}", delete_note, methods=["DELETE"]),
    ]
)
