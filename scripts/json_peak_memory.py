"""Peak memory of decoding one large JSON body: Tachyon's ``request.json()`` parser against ``json.loads``.

Each measurement runs in a fresh process: the body is built, the RSS high-water mark read (ru_maxrss), the body
decoded, the mark read again. tracemalloc cannot be used: it does not see orjson's C allocations.

    hatch run python scripts/json_peak_memory.py [--mib 50] [--shape zeros|ints|records|all]

Prints one line per shape and parser: MB added to the peak RSS, and seconds.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

SHAPES = ("zeros", "ints", "records")
PARSERS = ("starlette", "tachyon")


def build_body(shape: str, size: int) -> bytes:
    if shape == "zeros":
        return b"[" + b"0," * (size // 2 - 1) + b"0]"
    if shape == "ints":  # 19-digit integers: the digit run that made the old parser decode twice
        return b"[" + b"1234567890123456789," * (size // 20 - 1) + b"1]"
    if shape == "records":
        record = b'{"id":12345,"name":"abcdefgh","ok":true,"v":1.5},'
        return b"[" + record * (size // len(record)) + b"1]"
    raise ValueError(f"unknown shape {shape!r}")


def measure_here(shape: str, size: int, parser: str) -> tuple[float, float]:
    """(MB added to the peak RSS, seconds) of one decode in this process."""
    body = build_body(shape, size)
    if parser == "tachyon":
        from tachyon_http._json import loads
    else:
        loads = json.loads  # what Starlette's Request.json() calls
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    value = loads(body)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del value
    return (after - before) / 1024, elapsed


def measure(shape: str, size: int, parser: str) -> tuple[float, float]:
    """measure_here in a fresh interpreter, so that no earlier allocation hides the peak."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", shape, str(size), parser],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        grown, seconds = measure_here(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        print(grown, seconds)
        return
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--mib", type=float, default=50)
    options.add_argument("--shape", choices=(*SHAPES, "all"), default="all")
    args = options.parse_args()
    size = int(args.mib * 1024 * 1024)
    for shape in SHAPES if args.shape == "all" else (args.shape,):
        for parser in PARSERS:
            grown, seconds = measure(shape, size, parser)
            print(f"{shape:8} {args.mib:g} MiB  {parser:9}  peak RSS +{grown:7.1f} MB  {seconds:6.3f} s")


if __name__ == "__main__":
    main()
