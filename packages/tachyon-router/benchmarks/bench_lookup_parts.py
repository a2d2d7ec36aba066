"""Where a native ``RouteTable.lookup`` spends its time: the whole lookup and its pieces, measured alone.

Not a test: prints CPU nanoseconds per call (best of interleaved rounds, one process) for a last-route param hit
and a miss on Starlette's 120-route benchmark table, next to what each step of the lookup costs on its own.

    cd /work/main && python packages/tachyon-router/benchmarks/bench_lookup_parts.py [ROUNDS]

The pieces add up to less than the whole: measured alone, each one runs with hot caches and trained branch
predictors that the full sequence has to share.
"""

from __future__ import annotations

import sys
import time
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import resource_routes, tachyon_table
from tachyon_router import _native_table
from tachyon_router._tachyon_router_native import lib

HIT = "/resources29/123/items/first"
MISS = "/no/such/path"


class _Empty:
    def lookup(self, route_path: str, method: str, scope_type: int) -> tuple[int, int, tuple[int, ...], Any]:
        return 0, -1, (), None


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    table = tachyon_table(resource_routes(30), "native")
    if not isinstance(table, _native_table.NativeRouteTable):
        raise SystemExit("the native backend is not in use")
    buf, view = _native_table._new_buffer()
    data = HIT.encode()
    namespace: dict[str, Any] = {
        "lookup": table.lookup,
        "empty": _Empty().lookup,
        "static_get": table._static_get,
        "local": _native_table._local,
        "lib": lib,
        "find": _native_table._find,
        "tree": table._tree,
        "sel": 1 << lib.RADIX_SEL_TYPE_BITS | 1,
        "buf": buf,
        "view": view,
        "reader": table._readers[119],
        "HIT": HIT,
        "MISS": MISS,
        "data": data,
        "n": len(data),
    }
    statements = {
        "RouteTable.lookup, last-route param hit": "lookup(HIT, 'GET', 1)",
        "RouteTable.lookup, miss": "lookup(MISS, 'GET', 1)",
        "an empty method with the same signature": "empty(HIT, 'GET', 1)",
        "static dict probe": "static_get(HIT)",
        "str.encode()": "HIT.encode()",
        "threading.local read (the out buffer)": "local.find",
        "cffi call, 1 argument (radix_out_size)": "lib.radix_out_size(tree)",
        "cffi radix_find, 5 arguments, trivial miss": "find(tree, b'/x', 2, sel, buf)",
        "cffi radix_find, the last-route param hit": "find(tree, data, n, sel, buf)",
        "generated param reader (int from C + str slice + dict)": "reader(HIT, view)",
        "a 2-item dict display alone": "{'id': 1, 'item': HIT}",
    }
    best = dict.fromkeys(statements, float("inf"))
    for _ in range(rounds):
        for name, statement in statements.items():
            elapsed = timeit.Timer(statement, globals=namespace, timer=time.process_time).timeit(100_000)
            best[name] = min(best[name], elapsed / 100_000 * 1e9)
    print("| piece | ns |")
    print("|---|---:|")
    for name, ns in best.items():
        print(f"| {name} | {ns:,.0f} |")


if __name__ == "__main__":
    main()
