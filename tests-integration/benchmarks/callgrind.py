"""Instructions per request under valgrind's callgrind, counted between client requests.

The measured process warms up, zeroes callgrind's counters, makes N requests and dumps the counters under a
name (``CALLGRIND_ZERO_STATS`` / ``CALLGRIND_DUMP_STATS_AT``, called through a tiny cffi module built in the
benchmark cache; both are no-ops outside valgrind). Each dump's total divided by N is the instruction count
per request, whatever the machine's load. Used by ``bench_fastapi_path.py`` and ``bench_revisions.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

CACHE = Path(__file__).resolve().parent / ".cache"
MODULE = "_tachyon_bench_callgrind"

_SOURCE = """
#include <valgrind/callgrind.h>
static void tachyon_bench_zero(void) { CALLGRIND_ZERO_STATS; }
static void tachyon_bench_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""


def client_requests() -> Any:
    """The cffi module's ``lib``: ``tachyon_bench_zero()`` and ``tachyon_bench_dump(name: bytes)``.

    Call it once outside valgrind first, so that the module is compiled there and not under valgrind."""
    import cffi

    CACHE.mkdir(exist_ok=True)
    if not list(CACHE.glob(MODULE + ".*.so")) and not list(CACHE.glob(MODULE + ".so")):
        ffi = cffi.FFI()
        ffi.cdef("void tachyon_bench_zero(void); void tachyon_bench_dump(const char *name);")
        ffi.set_source(MODULE, _SOURCE)
        ffi.compile(tmpdir=str(CACHE))
    if str(CACHE) not in sys.path:
        sys.path.insert(0, str(CACHE))
    return __import__(MODULE).lib


def command(out: Path) -> list[str]:
    """valgrind's command line, to be followed by the measured process's own."""
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no"]


def read_dumps(directory: Path, prefix: str) -> dict[int, int]:
    """Total instructions of each dump named ``f"{prefix}{index}"`` in ``directory``, by index."""
    found: dict[int, int] = {}
    for dump in directory.glob("callgrind.out*"):
        text = dump.read_text(errors="replace")
        trigger = re.search(rf"^desc: Trigger: Client Request: {re.escape(prefix)}(\d+)$", text, re.M)
        totals = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if trigger and totals:
            found[int(trigger.group(1))] = int(totals.group(1))
    return found
