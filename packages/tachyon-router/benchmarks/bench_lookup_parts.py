"""Where a native ``RouteTable.lookup`` and ``Router.match`` spend their time: the whole call and its pieces.

Not a test: prints CPU nanoseconds per call (best of interleaved rounds, one process) for a last-route param hit
and a miss on Starlette's 120-route benchmark table, next to what each step of the lookup costs on its own, and
what ``Router.match`` adds for a route with parameters (its reader builds a ``Match`` instead of a dict).

    python packages/tachyon-router/benchmarks/bench_lookup_parts.py [ROUNDS]

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

from bench_lookup import resource_routes, standalone_router, tachyon_table
from tachyon_router import MatchStatus, _native_table, _router
from tachyon_router._tachyon_router_native import lib

HIT = "/resources29/123/items/first"
MISS = "/no/such/path"


class _Empty:
    def lookup(self, route_path: str, method: str, scope_type: int) -> tuple[int, int, tuple[int, ...], Any]:
        return 0, -1, (), None


# name -> statement; the statements read only the names that ``lookup_pieces`` returns.
STATEMENTS: dict[str, str] = {
    "RouteTable.lookup, last-route param hit": "lookup(HIT, 'GET', 1)",
    "RouteTable.lookup, miss": "lookup(MISS, 'GET', 1)",
    "a Python method with the same signature returning a 4-tuple": "empty(HIT, 'GET', 1)",
    "static dict probe": "static_get(HIT)",
    "str.encode()": "HIT.encode()",
    "threading.local read of the out buffer": "b, o = local.find",
    "selector of (method, scope type)": "sel_get('GET', 1)",
    "len() of the encoded path": "len(data)",
    "cffi radix_find, the last-route param hit": "find(tree, data, n, sel, buf)",
    "cffi radix_find, the miss": "find(tree, miss, n_miss, sel, buf)",
    "cffi call of one argument (radix_out_size)": "out_size(tree)",
    "generated param reader (int from C + str slice + dict)": "reader(HIT, view)",
    "a 2-item dict display": "d = {'id': 1, 'item': HIT}",
    "Router.match, last-route param hit": "match(HIT, 'GET')",
    "Router.match, miss": "match(MISS, 'GET')",
    "Router.match's reader of the hit (builds the Match)": "match_reader(HIT, view)",
    "a 4-tuple (lookup's answer)": "t = (119, -1, (), params)",
    "a 5-tuple of a Match's fields": "t = (FOUND, 119, params, methods, None)",
    "a Match of those fields (C-level tuple.__new__)": "m = make_match((FOUND, 119, params, methods, None))",
}


def lookup_pieces() -> dict[str, Any]:
    """The objects the statements use, taken from a native table of Starlette's 120-route benchmark shape."""
    table = tachyon_table(resource_routes(30), "native")
    if not isinstance(table, _native_table.NativeRouteTable):
        raise SystemExit("the native backend is not in use")
    buf, view = _native_table._new_buffer()
    data, miss = HIT.encode(), MISS.encode()
    table.lookup(HIT, "GET", 1)  # the thread's out buffer exists before anything is measured
    router = standalone_router(resource_routes(30), "native")
    router.match(HIT)
    state = router._state
    assert state is not None and state[2] is not None
    return {
        "match": router.match,
        "match_reader": state[2][-1][119],
        "make_match": _router._make_match,
        "FOUND": MatchStatus.FOUND,
        "params": {"id": 123},
        "methods": frozenset({"GET", "HEAD"}),
        "lookup": table.lookup,
        "empty": _Empty().lookup,
        "static_get": table._static_get,
        "local": _native_table._local,
        "sel_get": table._sel_gets[1],
        "find": _native_table._find,
        "out_size": lib.radix_out_size,
        "tree": table._tree,
        "sel": table._sel_gets[1]("GET", 1),
        "buf": buf,
        "view": view,
        "reader": table._readers[119],
        "HIT": HIT,
        "MISS": MISS,
        "data": data,
        "n": len(data),
        "miss": miss,
        "n_miss": len(miss),
    }


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    namespace = lookup_pieces()
    statements = STATEMENTS
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
