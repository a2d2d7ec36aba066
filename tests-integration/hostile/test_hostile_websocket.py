"""Hostile WebSocket frames against the echo endpoint of both servers (Tachyon, Starlette under uvicorn).

A raw client (handshake and masked frames written by hand, so that malformed frames can be sent) reads the
server's answer: the echoed frame, or the close code. Both servers must answer alike and stay healthy.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import sys
from typing import Any

import pytest

processes = sys.modules["e2e_processes"]
WS_MAX_SIZE = 65536  # as passed to uvicorn by conftest.py


def _frame(opcode: int, payload: bytes, fin: bool = True, mask: bool = True, rsv: int = 0) -> bytes:
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", first, (0x80 if mask else 0) | size)
    elif size < 65536:
        head = struct.pack("!BBH", first, (0x80 if mask else 0) | 126, size)
    else:
        head = struct.pack("!BBQ", first, (0x80 if mask else 0) | 127, size)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))


def _read_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def exchange(port: int, frames: list[bytes]) -> str:
    """Send the frames after a handshake; "echo:<opcode>:<size>", "close:<code>" or "eof" for the first answer."""
    with socket.create_connection((processes.HOST, port), timeout=60) as conn:
        key = base64.b64encode(os.urandom(16))
        conn.sendall(
            b"GET /ws HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
            b"sec-websocket-key: " + key + b"\r\nsec-websocket-version: 13\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(1)
            if not chunk:
                return "eof"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head
        try:
            for frame in frames:
                conn.sendall(frame)
            first, second = _read_exact(conn, 2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", _read_exact(conn, 2))[0]
            elif size == 127:
                size = struct.unpack("!Q", _read_exact(conn, 8))[0]
            payload = _read_exact(conn, size)
        except (EOFError, ConnectionResetError, BrokenPipeError):
            return "eof"
        opcode = first & 0x0F
        if opcode == 8:
            return f"close:{struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else 'none'}"
        return f"echo:{opcode}:{size}"


CASES: dict[str, list[bytes]] = {
    "text echo": [_frame(1, b"hello")],
    "binary echo": [_frame(2, b"\x00\xff" * 100)],
    "fragmented text": [_frame(1, b"hel", fin=False), _frame(0, b"lo")],
    "text too large": [_frame(1, b"x" * (WS_MAX_SIZE + 1))],
    "fragments too large together": [_frame(1, b"x" * 40000, fin=False), _frame(0, b"x" * 40000)],
    "invalid utf-8 text": [_frame(1, b"\xff\xfe")],
    "unmasked frame": [_frame(1, b"hello", mask=False)],
    "reserved bits": [_frame(1, b"hello", rsv=4)],
    "unknown opcode": [_frame(3, b"hello")],
    "continuation without a start": [_frame(0, b"hello")],
    "fragmented control frame": [_frame(9, b"ping", fin=False)],
    "control frame too long": [_frame(9, b"p" * 200)],
    "close with a bad code": [_frame(8, struct.pack("!H", 999))],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_answer_and_no_harm(servers: dict[str, Any], case: str) -> None:
    answers = {name: exchange(server.port, CASES[case]) for name, server in servers.items()}
    assert answers["tachyon"] == answers["starlette"], (case, answers)
    for name, server in servers.items():
        assert exchange(server.port, [_frame(1, b"still alive")]) == "echo:1:11", name
