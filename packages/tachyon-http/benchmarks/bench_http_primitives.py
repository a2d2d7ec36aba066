"""Side-by-side benchmark of tachyon-http against Starlette's request/response primitives.

Both frameworks are driven in one process by the same raw ASGI scope/receive/send. Rounds interleave the
frameworks (Starlette batch, Tachyon batch, Starlette batch, ...) so a load spike on the shared machine
hits both; the best round is kept. Time is process CPU time (``time.process_time``, which includes worker
threads), so time spent waiting for the CPU while other processes run is not counted.

Every batch checks its last answer (status, body length, ...) against the expected one, so a scenario that
breaks cannot look fast.

Run: ``python packages/tachyon-http/benchmarks/bench_http_primitives.py [--quick] [-k SUBSTRING]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import orjson
import starlette
import starlette.requests
import starlette.responses
import tachyon_http.requests
import tachyon_http.responses

KiB = 1024
MiB = 1024 * KiB

# CPU seconds one timed batch should take; long enough to dwarf the timer's resolution and the per-batch
# event-loop overhead, short enough that the whole run stays within a few minutes on a shared machine.
BATCH_SECONDS_FULL = 0.25
BATCH_SECONDS_QUICK = 0.1
ROUNDS_FULL = 9
ROUNDS_QUICK = 5

BOUNDARY = b"tachyonbenchboundary7MA4YWxkTrZu0gW"

Message = dict[str, Any]
Op = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Framework:
    name: str
    requests: ModuleType
    responses: ModuleType


FRAMEWORKS = (
    Framework("starlette", starlette.requests, starlette.responses),
    Framework("tachyon", tachyon_http.requests, tachyon_http.responses),
)


@dataclass(frozen=True)
class Scenario:
    name: str
    # Builds the per-call coroutine function for one framework; the coroutine returns the answer to check.
    build: Callable[[Framework], Op]
    expected: object
    # The bare Python work this row cannot go below (same harness), timed in the same interleaved rounds.
    floor: Scenario | None = None


# --- ASGI plumbing -------------------------------------------------------------------------------------------


def http_scope(
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    query_string: bytes = b"",
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.5"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": query_string,
        "headers": list(headers) if headers else [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "extensions": {},
    }


def chunk_receiver(chunks: tuple[bytes, ...]) -> Callable[[], Awaitable[Message]]:
    position = 0
    last = len(chunks) - 1

    async def receive() -> Message:
        nonlocal position
        if position > last:
            # A framework asking again after the body ended would wait for a disconnect; the benchmark's
            # request handlers never need one.
            raise AssertionError("read past the end of the request body")
        chunk = chunks[position]
        position += 1
        return {"type": "http.request", "body": chunk, "more_body": position <= last}

    return receive


async def no_body() -> Message:
    raise AssertionError("this scenario must not read the request body")


def split(body: bytes, chunk_size: int | None) -> tuple[bytes, ...]:
    if chunk_size is None:
        return (body,)
    return tuple(body[offset : offset + chunk_size] for offset in range(0, len(body), chunk_size))


def size_label(size: int) -> str:
    return f"{size // MiB} MiB" if size >= MiB else f"{size // KiB} KiB"


async def drive(response: Any, scope: dict[str, Any]) -> tuple[int, int, dict[bytes, bytes]]:
    """Send ``response`` through ASGI; return its status, body length and headers."""
    status = 0
    length = 0
    headers: dict[bytes, bytes] = {}

    async def send(message: Message) -> None:
        nonlocal status, length, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = dict(message["headers"])
        else:
            length += len(message.get("body", b""))

    await response(scope, no_body, send)
    return status, length, headers


# --- scenario builders -------------------------------------------------------------------------------------


def body_scenario(mode: str, body_size: int, chunk_size: int | None) -> Scenario:
    chunks = split(b"x" * body_size, chunk_size)
    label = f"{'`body()`' if mode == 'body' else '`stream()`'} {size_label(body_size)}, " + (
        "one message" if chunk_size is None else f"{size_label(chunk_size)} chunks"
    )

    def build(fw: Framework) -> Op:
        request_class = fw.requests.Request
        if mode == "body":

            async def op() -> object:
                return len(await request_class(http_scope("POST"), chunk_receiver(chunks)).body())

        else:

            async def op() -> object:
                total = 0
                async for piece in request_class(http_scope("POST"), chunk_receiver(chunks)).stream():
                    total += len(piece)
                return total

        return op

    return Scenario(label, build, body_size)


def json_content(items: int) -> list[dict[str, object]]:
    return [{"id": index, "name": f"item-{index}", "enabled": index % 2 == 0} for index in range(items)]


def render_json(content: object) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def json_request_scenario(label: str, items: int, chunk_size: int | None) -> Scenario:
    body = render_json(json_content(items))
    chunks = split(body, chunk_size)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    name = f"`Request.json()` {label}, " + ("one message" if chunk_size is None else f"{size_label(chunk_size)} chunks")

    def build(fw: Framework) -> Op:
        request_class = fw.requests.Request

        async def op() -> object:
            data = await request_class(http_scope("POST", headers), chunk_receiver(chunks)).json()
            return len(data), data[-1]["id"]

        return op

    return Scenario(name, build, (items, items - 1))


def json_response_scenario(label: str, items: int) -> Scenario:
    content = json_content(items)
    expected_length = len(render_json(content))

    def build(fw: Framework) -> Op:
        response_class = fw.responses.JSONResponse

        async def op() -> object:
            status, length, _ = await drive(response_class(content), http_scope())
            return status, length

        return op

    return Scenario(f"`JSONResponse` {label}, sent", build, (200, expected_length))


def urlencoded_scenario(fields: int) -> Scenario:
    body = b"&".join(b"field%d=%s" % (index, b"v" * 8) for index in range(fields))
    chunks = split(body, 64 * KiB)
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]

    def build(fw: Framework) -> Op:
        request_class = fw.requests.Request

        async def op() -> object:
            request = request_class(http_scope("POST", headers), chunk_receiver(chunks))
            async with request.form() as form:
                return len(form), form[f"field{fields - 1}"]

        return op

    return Scenario(f"urlencoded form, {fields} fields", build, (fields, "v" * 8))


def field_part(index: int, size: int) -> bytes:
    return b'--%s\r\nContent-Disposition: form-data; name="field%d"\r\n\r\n%s\r\n' % (
        BOUNDARY,
        index,
        bytes((65 + index % 26,)) * size,
    )


def file_part(index: int, size: int) -> bytes:
    return (
        b'--%s\r\nContent-Disposition: form-data; name="file%d"; filename="file.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n%s\r\n" % (BOUNDARY, index, b"F" * size)
    )


def multipart_body(fields: int, file_sizes: tuple[int, ...]) -> bytes:
    parts = [field_part(index, 16) for index in range(fields)]
    parts.extend(file_part(index, size) for index, size in enumerate(file_sizes))
    parts.append(b"--%s--\r\n" % BOUNDARY)
    return b"".join(parts)


MULTIPART_HEADERS = [(b"content-type", b"multipart/form-data; boundary=" + BOUNDARY)]


async def consume_form(request: Any) -> tuple[int, int, int]:
    fields = files = file_bytes = 0
    async with request.form(max_part_size=MiB) as form:
        for _, value in form.multi_items():
            if isinstance(value, str):
                fields += 1
            else:
                files += 1
                # Read the upload back in 64 KiB pieces, as an application saving it would.
                while piece := await value.read(64 * KiB):
                    file_bytes += len(piece)
    return fields, files, file_bytes


def multipart_scenario(name: str, fields: int, file_sizes: tuple[int, ...]) -> Scenario:
    chunks = split(multipart_body(fields, file_sizes), 64 * KiB)

    def build(fw: Framework) -> Op:
        request_class = fw.requests.Request

        async def op() -> object:
            return await consume_form(request_class(http_scope("POST", MULTIPART_HEADERS), chunk_receiver(chunks)))

        return op

    return Scenario(name, build, (fields, len(file_sizes), sum(file_sizes)))


def streaming_scenario(count: int, chunk_size: int) -> Scenario:
    chunk = b"s" * chunk_size

    async def produce() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk

    def build(fw: Framework) -> Op:
        response_class = fw.responses.StreamingResponse

        async def op() -> object:
            status, length, _ = await drive(response_class(produce()), http_scope())
            return status, length

        return op

    return Scenario(f"`StreamingResponse` {count} × {size_label(chunk_size)}", build, (200, count * chunk_size))


def file_scenario(name: str, path: str, range_header: bytes | None, expected_status: int, payload: int) -> Scenario:
    headers = [] if range_header is None else [(b"range", range_header)]

    def build(fw: Framework) -> Op:
        response_class = fw.responses.FileResponse

        async def op() -> object:
            response = response_class(path, media_type="application/octet-stream")
            status, length, sent_headers = await drive(response, http_scope("GET", headers))
            if int(sent_headers[b"content-length"]) != length:
                raise AssertionError("content-length does not match the body sent")
            if range_header is not None and b"," in range_header:
                # Multi-range: the body is multipart/byteranges; check it holds at least the selected bytes.
                if not sent_headers[b"content-type"].startswith(b"multipart/byteranges"):
                    raise AssertionError("multi-range answer is not multipart/byteranges")
                return status, length > payload
            return status, length

        return op

    expected: object = (expected_status, True) if range_header and b"," in range_header else (expected_status, payload)
    return Scenario(name, build, expected)


def construction_scenario(name: str, make: Callable[[ModuleType], Any], expected_length: int) -> Scenario:
    def build(fw: Framework) -> Op:
        module = fw.responses

        async def op() -> object:
            response = make(module)
            return response.status_code, len(response.body)

        return op

    return Scenario(name, build, (200, expected_length))


def send_small_scenario() -> Scenario:
    def build(fw: Framework) -> Op:
        response_class = fw.responses.Response

        async def op() -> object:
            status, length, _ = await drive(response_class(b"ok"), http_scope())
            return status, length

        return op

    return Scenario('`Response(b"ok")` constructed and sent', build, (200, 2))


def header_access_scenario(headers: list[tuple[bytes, bytes]], name: bytes, label: str) -> Scenario:
    """``request.headers[name]`` on a fresh request carrying ``headers`` (the answer is the last such header)."""
    wanted = dict(headers)[name].decode("latin-1")
    key = name.decode("latin-1")

    def build(fw: Framework) -> Op:
        request_class = fw.requests.Request

        async def op() -> object:
            return request_class(http_scope("GET", headers), no_body).headers[key]

        return op

    return Scenario(label, build, wanted)


def header_scenario() -> Scenario:
    headers = [(b"x-header-%d" % index, b"value-%d" % index) for index in range(19)] + [(b"x", b"wanted")]
    return header_access_scenario(headers, b"x", '`request.headers["x"]`, 20 headers, fresh request')


def typical_header_scenario() -> Scenario:
    # What a browser or HTTP client sends, in the order uvicorn passes it on; the handler reads one early header.
    headers = [
        (b"host", b"example.com"),
        (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64)"),
        (b"accept", b"application/json"),
        (b"accept-encoding", b"gzip, deflate, br"),
        (b"accept-language", b"en-GB,en;q=0.9"),
        (b"authorization", b"Bearer abc.def.ghi"),
        (b"content-type", b"application/json"),
        (b"cookie", b"session=abc; theme=dark"),
    ]
    return header_access_scenario(
        headers, b"authorization", '`request.headers["authorization"]`, 8 typical headers, fresh request'
    )


def query_scenario() -> Scenario:
    query = b"&".join(b"param%d=value%d" % (index, index) for index in range(10))

    def build(fw: Framework) -> Op:
        request_class = fw.requests.Request

        async def op() -> object:
            return request_class(http_scope("GET", None, query), no_body).query_params["param9"]

        return op

    return Scenario('`request.query_params["param9"]`, 10 params, fresh request', build, "value9")


def scenarios(file_path: str) -> list[Scenario]:
    result: list[Scenario] = []
    for mode in ("body", "stream"):
        for body_size, chunk_size in (
            (KiB, None),
            (MiB, None),
            (MiB, 64 * KiB),
            (10 * MiB, None),
            (10 * MiB, 64 * KiB),
        ):
            result.append(body_scenario(mode, body_size, chunk_size))
    result += [
        with_floor(json_request_scenario("~1 KiB", 25, None), decode_floor(25)),
        with_floor(json_request_scenario("~1 MiB", 22_000, None), decode_floor(22_000)),
        json_request_scenario("~1 MiB", 22_000, 64 * KiB),
        json_response_scenario("~1 KiB", 25),
        json_response_scenario("~1 MiB", 22_000),
        urlencoded_scenario(1000),
        multipart_scenario("multipart, 500 small fields", 500, ()),
        multipart_scenario("multipart, 512 KiB file (in memory)", 0, (512 * KiB,)),
        multipart_scenario("multipart, 2 MiB file (spooled to disk)", 0, (2 * MiB,)),
        streaming_scenario(100, KiB),
        file_scenario("`FileResponse` 1 MiB, whole", file_path, None, 200, MiB),
        file_scenario("`FileResponse` 1 MiB, one 64 KiB range", file_path, b"bytes=262144-327679", 206, 64 * KiB),
        file_scenario(
            "`FileResponse` 1 MiB, three ranges",
            file_path,
            b"bytes=0-1023,65536-131071,524288-524387",
            206,
            1024 + 64 * KiB + 100,
        ),
        with_floor(construction_scenario('`Response(b"ok")`', lambda m: m.Response(b"ok"), 2), response_floor()),
        construction_scenario('`PlainTextResponse("ok")`', lambda m: m.PlainTextResponse("ok"), 2),
        construction_scenario(
            '`JSONResponse({"ok": True, "n": 1})`', lambda m: m.JSONResponse({"ok": True, "n": 1}), 17
        ),
        send_small_scenario(),
        with_floor(header_scenario(), header_scan_floor()),
        typical_header_scenario(),
        query_scenario(),
    ]
    return result


# --- floors ------------------------------------------------------------------------------------------------------
#
# The bare Python work some rows cannot go below, measured through the same harness (fresh scope, one await), so a
# speed-up target can be checked against what is physically left to remove.

_LENGTH_PAIR = (b"content-length", b"2")


class _BareResponse:
    """A class with a Python ``__init__`` storing what any Response must store: status, background, body, headers."""

    def __init__(self, content: bytes, status_code: int = 200, background: object = None) -> None:
        self.status_code = status_code
        self.background = background
        self.body = content
        self.raw_headers = [_LENGTH_PAIR]


def with_floor(scenario: Scenario, floor: Scenario) -> Scenario:
    return Scenario(scenario.name, scenario.build, scenario.expected, floor)


def response_floor() -> Scenario:
    # Built like the construction rows (the same call through a lambda), so the two compare directly.
    return construction_scenario(
        "a class with a Python `__init__` storing the 4 response attributes", lambda m: _BareResponse(b"ok"), 2
    )


def header_scan_floor() -> Scenario:
    wanted_headers = [(b"x-header-%d" % index, b"value-%d" % index) for index in range(19)] + [(b"x", b"wanted")]

    async def bare_header_scan() -> object:
        # Only the linear scan for the last of 20 (name, value) pairs and the decode: no Request, no Headers.
        for name, value in http_scope("GET", wanted_headers)["headers"]:
            if name == b"x":
                return value.decode("latin-1")
        return None

    return Scenario(
        "a fresh scope and a scan of its 20 header pairs to the last one", lambda fw: bare_header_scan, "wanted"
    )


def decode_scenario(label: str, loads: Callable[[bytes], Any], items: int) -> Scenario:
    body = render_json(json_content(items))

    def build(fw: Framework) -> Op:
        async def op() -> object:
            data = loads(body)
            return len(data), data[-1]["id"]

        return op

    return Scenario(label, build, (items, items - 1))


def decode_floor(items: int) -> Scenario:
    return decode_scenario("`orjson.loads` of the same body, alone", orjson.loads, items)


def reference_scenarios() -> list[Scenario]:
    """Timed once after the table, for context: Starlette's own parse without any request around it."""
    return [
        decode_scenario("`json.loads` alone, ~1 KiB", json.loads, 25),
        decode_scenario("`json.loads` alone, ~1 MiB", json.loads, 22_000),
    ]


# --- timing ------------------------------------------------------------------------------------------------


async def run_batch(op: Op, count: int) -> object:
    answer: object = None
    for _ in range(count):
        answer = await op()
    return answer


async def harness_floor() -> object:
    http_scope("GET")
    return "floor"


def check(scenario: Scenario, fw: Framework, answer: object) -> None:
    if answer != scenario.expected:
        raise SystemExit(f"{scenario.name} [{fw.name}]: got {answer!r}, expected {scenario.expected!r}")


def timed_batch(loop: asyncio.AbstractEventLoop, scenario: Scenario, fw: Framework, op: Op, count: int) -> float:
    start = time.process_time()
    answer = loop.run_until_complete(run_batch(op, count))
    elapsed = time.process_time() - start
    check(scenario, fw, answer)
    return elapsed


def measure(
    loop: asyncio.AbstractEventLoop, scenario: Scenario, rounds: int, batch_seconds: float
) -> tuple[float, float, float | None]:
    """Best µs per call for Starlette, Tachyon and (when the scenario has one) its floor, in interleaved rounds."""
    runs = [(scenario, fw, scenario.build(fw)) for fw in FRAMEWORKS]
    if scenario.floor is not None:
        runs.append((scenario.floor, FRAMEWORKS[1], scenario.floor.build(FRAMEWORKS[1])))
    # Warm up all, and size the batch from the slowest so no batch is too short.
    slowest = 0.0
    for checked, fw, op in runs:
        timed_batch(loop, checked, fw, op, 3)
        slowest = max(slowest, timed_batch(loop, checked, fw, op, 5) / 5)
    count = max(1, min(200_000, int(batch_seconds / max(slowest, 1e-7))))
    best = [float("inf")] * len(runs)
    for _ in range(rounds):
        for index, (checked, fw, op) in enumerate(runs):
            best[index] = min(best[index], timed_batch(loop, checked, fw, op, count) / count)
    return best[0] * 1e6, best[1] * 1e6, best[2] * 1e6 if len(best) > 2 else None


def upload_peaks(loop: asyncio.AbstractEventLoop) -> dict[str, int]:
    """tracemalloc peak (bytes) of one 2 MiB spooled multipart upload, parsed and read back, per framework."""
    chunks = split(multipart_body(0, (2 * MiB,)), 64 * KiB)
    peaks: dict[str, int] = {}
    for fw in FRAMEWORKS:
        request_class = fw.requests.Request
        tracemalloc.start()
        answer = loop.run_until_complete(
            consume_form(request_class(http_scope("POST", MULTIPART_HEADERS), chunk_receiver(chunks)))
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if answer != (0, 1, 2 * MiB):
            raise SystemExit(f"spooled upload [{fw.name}]: got {answer!r}")
        peaks[fw.name] = peak
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (about a minute)")
    parser.add_argument("-k", default="", help="only scenarios whose name contains this text")
    args = parser.parse_args()
    rounds = ROUNDS_QUICK if args.quick else ROUNDS_FULL
    batch_seconds = BATCH_SECONDS_QUICK if args.quick else BATCH_SECONDS_FULL

    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as directory:
        file_path = os.path.join(directory, "file.bin")
        with open(file_path, "wb") as handle:
            handle.write(bytes(range(256)) * (MiB // 256))

        started = time.perf_counter()
        print(
            f"Python {platform.python_version()}, Starlette {starlette.__version__}, "
            f"{rounds} rounds, best round, CPU time (time.process_time), µs per call"
        )
        print()
        print("| scenario | Starlette µs | Tachyon µs | speed-up (×) | floor µs |")
        print("|---|---:|---:|---:|---:|")
        floors: list[str] = []
        for scenario in scenarios(file_path):
            if args.k not in scenario.name:
                continue
            base, ours, floor_time = measure(loop, scenario, rounds, batch_seconds)
            floor_cell = ""
            if scenario.floor is not None and floor_time is not None:
                floor_cell = f"{floor_time:,.2f}"
                floors.append(f"- {scenario.name}: {scenario.floor.name}")
            print(f"| {scenario.name} | {base:,.2f} | {ours:,.2f} | {base / ours:.2f} | {floor_cell} |", flush=True)
        if floors:
            print()
            print("Floors (bare Python work in the same harness, timed in the same interleaved rounds):")
            print("\n".join(floors))

        floor = Scenario("harness floor", lambda fw: harness_floor, "floor")
        base, _, _ = measure(loop, floor, rounds, batch_seconds)
        print()
        print(f"Harness floor (fresh scope dict + one await, included in every row): {base:.2f} µs")
        if not args.k:
            print()
            print("For reference (same harness; both columns run the same code):")
            for reference in reference_scenarios():
                base, again, _ = measure(loop, reference, rounds, batch_seconds)
                print(f"- {reference.name}: {min(base, again):,.2f} µs", flush=True)

        peaks = upload_peaks(loop)
        print()
        print(
            "tracemalloc peak, one 2 MiB multipart file upload (parsed and read back): "
            + ", ".join(f"{name} {peak / KiB:,.0f} KiB" for name, peak in peaks.items())
        )
        print(f"total run time {time.perf_counter() - started:.0f} s", file=sys.stderr)
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


if __name__ == "__main__":
    main()
