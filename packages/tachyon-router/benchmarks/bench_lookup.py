"""Route lookup benchmark: tachyon-router (native tree, pure-Python twin, the standalone ``Router.match``)
against Starlette's route loop and Falcon's ``CompiledRouter``.

Not a test: prints CPU nanoseconds per lookup (best of interleaved rounds) and ratios measured in the same run.

    python packages/tachyon-router/benchmarks/bench_lookup.py [--quick]

Starlette's cost is what its ``Router.app`` does per request before calling the endpoint: every route's
``matches(scope)`` in order until the first FULL match, remembering the first PARTIAL. tachyon-router's cost
is ``RouteTable.lookup(route_path, method, HTTP)``, which returns the same answer plus converted params;
``Router.match(path, method)`` is what another framework calls (native backend). Falcon's cost is what its
app does to pick a responder: ``CompiledRouter.find(path)`` and the method map's responder for the method
(for a 405, Falcon's router has no answer of its own: the method map returns its "method not allowed"
responder). Falcon is measured on the resource tables only (it refuses templates that differ only in field
names at one position, which the GitHub table has); where it is not installed its columns say n/a.
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from collections.abc import Callable
from typing import Any

from starlette.responses import PlainTextResponse
from starlette.routing import Match, Route, Router
from tachyon_router import HTTP, MatchStatus, Router as StandaloneRouter, RouteSpec, RouteTable


def _endpoint(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


def resource_routes(groups: int) -> list[tuple[list[str], str]]:
    """The shape of Starlette's own routing benchmark (benchmarks/routing_benchmark.py): 4 routes a group."""
    routes: list[tuple[list[str], str]] = []
    for i in range(groups):
        routes += [
            (["GET", "POST"], f"/resources{i}"),
            (["GET", "PUT", "DELETE"], f"/resources{i}/{{id:int}}"),
            (["GET", "POST"], f"/resources{i}/{{id:int}}/items"),
            (["GET"], f"/resources{i}/{{id:int}}/items/{{item}}"),
        ]
    return routes


def github_routes() -> list[tuple[list[str], str]]:
    """One route per path of the GitHub REST API sample, with all its methods (first appearance order)."""
    grouped: dict[str, list[str]] = {}
    for method, path in GITHUB_ROUTES:
        grouped.setdefault(path, []).append(method)
    return [(methods, path) for path, methods in grouped.items()]


def _check_same_answer(match: Callable[[dict[str, Any]], Any], scope: dict[str, Any], answer: Any, case: str) -> None:
    found = match(scope)
    routes = match.routes  # type: ignore[attr-defined]
    if found is None:
        assert answer[:2] == (-1, -1), case
        return
    route = found[0]
    if route.methods and scope["method"] not in route.methods:
        assert answer[:2] == (-1, routes.index(route)), case
    else:
        assert answer[0] == routes.index(route), case


def starlette_matcher(routes: list[tuple[list[str], str]]) -> Callable[[dict[str, Any]], Any]:
    router = Router(routes=[Route(path, _endpoint, methods=methods) for methods, path in routes])
    table = router.routes

    def match(scope: dict[str, Any]) -> Any:
        first_partial = None
        for route in table:
            found, child_scope = route.matches(scope)
            if found is Match.FULL:
                return route, child_scope
            if found is Match.PARTIAL and first_partial is None:
                first_partial = route, child_scope
        return first_partial

    match.routes = table  # type: ignore[attr-defined]
    return match


def tachyon_table(routes: list[tuple[list[str], str]], backend: str) -> RouteTable:
    specs = []
    for methods, path in routes:
        accepted = {method.upper() for method in methods}
        if "GET" in accepted:
            accepted.add("HEAD")
        specs.append(RouteSpec(path, frozenset(accepted), HTTP))
    return RouteTable(specs, backend=backend)


def standalone_router(routes: list[tuple[list[str], str]], backend: str) -> StandaloneRouter[int]:
    router: StandaloneRouter[int] = StandaloneRouter(backend=backend)
    for index, (methods, path) in enumerate(routes):
        router.add(path, index, methods=methods)
    return router


class _FalconResource:
    """A Falcon resource answering the given methods (sync responders: only the lookup is timed)."""

    def __init__(self, methods: list[str]) -> None:
        for method in methods:
            setattr(self, f"on_{method.lower()}", self._respond)

    def _respond(self, req: Any, resp: Any, **params: Any) -> None:  # pragma: no cover - never called
        pass


def falcon_finder(routes: list[tuple[list[str], str]]) -> Callable[[str, str], Any] | None:
    """``find(path, method)`` over Falcon's CompiledRouter: the resource's responder for the method or None."""
    try:
        from falcon.routing import CompiledRouter, map_http_methods, set_default_responders
    except ImportError:
        return None
    router = CompiledRouter()
    for methods, path in routes:
        resource = _FalconResource(methods)
        method_map = map_http_methods(resource)
        set_default_responders(method_map)
        router.add_route(path, resource, method_map=method_map)
    find = router.find

    def lookup(path: str, method: str) -> Any:
        found = find(path)
        if found is None:
            return None
        return found[1][method], found[2]

    return lookup


def best_ns(stmts: list[Callable[[], Any]], rounds: int, budget: float) -> list[float]:
    """Best CPU time per call of each statement, measured in interleaved rounds.

    CPU time of this process (not wall time), so that being descheduled on a busy machine does not count.
    """
    numbers = []
    for stmt in stmts:
        number, elapsed = timeit.Timer(stmt, timer=time.process_time).autorange()
        numbers.append(max(1, int(number * budget / rounds / max(elapsed, 1e-9))))
    best = [float("inf")] * len(stmts)
    for _ in range(rounds):
        for i, (stmt, number) in enumerate(zip(stmts, numbers, strict=True)):
            elapsed = timeit.Timer(stmt, timer=time.process_time).timeit(number)
            best[i] = min(best[i], elapsed / number * 1e9)
    return best


CASES: dict[str, tuple[list[tuple[list[str], str]], list[tuple[str, str, str]]]] = {}


def _cases() -> None:
    CASES["starlette-120"] = (
        resource_routes(30),
        [
            ("early static", "GET", "/resources0"),
            ("last static", "GET", "/resources29"),
            ("last param", "GET", "/resources29/123/items/first"),
            ("miss", "GET", "/no/such/path"),
            ("405", "DELETE", "/resources29"),
        ],
    )
    CASES["github-234"] = (
        github_routes(),
        [
            ("early static", "GET", "/emojis"),
            ("last static", "GET", "/zen"),
            ("late param", "GET", "/users/octocat/subscriptions"),
            ("deep 3 params", "GET", "/repos/octo/hello/pulls/42/reviews/7"),
            ("path param", "GET", "/repos/octo/hello/contents/docs/a/b.md"),
            ("miss", "GET", "/no/such/path"),
            ("405", "DELETE", "/user/repos"),
        ],
    )
    CASES["resources-1000"] = (
        resource_routes(250),
        [
            ("early static", "GET", "/resources0"),
            ("last static", "GET", "/resources249"),
            ("last param", "GET", "/resources249/123/items/first"),
            ("miss", "GET", "/no/such/path"),
            ("405", "DELETE", "/resources249"),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier figures)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="interleaved rounds per case (default 15; more = steadier on a busy machine)",
    )
    args = parser.parse_args()
    rounds, budget = (5, 0.1) if args.quick else (15, 0.3)
    if args.rounds is not None:
        if args.rounds < 1:
            parser.error("--rounds must be at least 1")
        # keep each round as long as in a default run
        rounds, budget = args.rounds, budget * args.rounds / rounds
    _cases()
    native_ok = True
    try:
        import tachyon_router._native
    except ImportError:
        native_ok = False
    print(
        f"tachyon-router {tachyon_router.__version__}, default backend: {tachyon_router.backend}, "
        f"Python {sys.version.split()[0]}"
    )
    print()
    print(
        "| table | case | native ns | twin ns | Router.match ns | match − lookup ns | Falcon ns | Starlette ns "
        "| Falcon / match | Starlette / native | Starlette / twin |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for table_name, (routes, probes) in CASES.items():
        starlette_match = starlette_matcher(routes)
        twin = tachyon_table(routes, "python")
        native = tachyon_table(routes, "native") if native_ok else None
        router = standalone_router(routes, "native" if native_ok else "python")
        falcon_find = falcon_finder(routes) if table_name.startswith(("starlette", "resources")) else None
        for case, method, path in probes:
            scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
            answer = twin.lookup(path, method, HTTP)
            _check_same_answer(starlette_match, scope, answer, case)
            found = router.match(path, method)
            expected_status = (
                MatchStatus.FOUND
                if answer[0] >= 0
                else MatchStatus.METHOD_NOT_ALLOWED
                if answer[1] >= 0
                else MatchStatus.NOT_FOUND
            )
            assert found.status is expected_status and found.params == answer[3], case

            def run_starlette(
                scope: dict[str, Any] = scope, match: Callable[[dict[str, Any]], Any] = starlette_match
            ) -> Any:
                return match(scope)

            def run_twin(path: str = path, method: str = method, table: RouteTable = twin) -> Any:
                return table.lookup(path, method, HTTP)

            def run_match(path: str = path, method: str = method, match: Any = router.match) -> Any:
                return match(path, method)

            stmts: list[Callable[[], Any]] = [run_starlette, run_twin, run_match]
            if native is not None:
                assert native.lookup(path, method, HTTP) == answer, case

                def run_native(path: str = path, method: str = method, table: RouteTable = native) -> Any:
                    return table.lookup(path, method, HTTP)

                stmts.append(run_native)
            if falcon_find is not None:
                falcon_answer = falcon_find(path, method)
                assert (falcon_answer is None) == (expected_status is MatchStatus.NOT_FOUND), case

                def run_falcon(path: str = path, method: str = method, find: Any = falcon_find) -> Any:
                    return find(path, method)

                stmts.append(run_falcon)
            timings = best_ns(stmts, rounds, budget)
            starlette_ns, twin_ns, match_ns = timings[0], timings[1], timings[2]
            lookup_ns = twin_ns
            if native is not None:
                native_ns = lookup_ns = timings[3]
                native_cell, ratio_native = f"{native_ns:,.0f}", f"{starlette_ns / native_ns:,.0f}x"
            else:
                native_cell, ratio_native = "n/a", "n/a"
            if falcon_find is not None:
                falcon_ns = timings[-1]
                falcon_cell, falcon_ratio = f"{falcon_ns:,.0f}", f"{falcon_ns / match_ns:,.2f}x"
            else:
                falcon_cell = falcon_ratio = "n/a"
            print(
                f"| {table_name} | {case} | {native_cell} | {twin_ns:,.0f} | {match_ns:,.0f} | "
                f"{match_ns - lookup_ns:+,.0f} | {falcon_cell} | {starlette_ns:,.0f} | {falcon_ratio} | "
                f"{ratio_native} | {starlette_ns / twin_ns:,.1f}x |",
                flush=True,
            )


GITHUB_ROUTES: list[tuple[str, str]] = [
    ("GET", "/"),
    ("GET", "/app"),
    ("GET", "/app/installations"),
    ("GET", "/app/installations/{installation_id:int}"),
    ("DELETE", "/app/installations/{installation_id:int}"),
    ("POST", "/app/installations/{installation_id:int}/access_tokens"),
    ("GET", "/applications/grants"),
    ("GET", "/applications/grants/{grant_id:int}"),
    ("DELETE", "/applications/{client_id}/grant"),
    ("POST", "/applications/{client_id}/token"),
    ("GET", "/apps/{app_slug}"),
    ("GET", "/authorizations"),
    ("GET", "/authorizations/{authorization_id:int}"),
    ("GET", "/codes_of_conduct"),
    ("GET", "/codes_of_conduct/{key}"),
    ("GET", "/emojis"),
    ("GET", "/events"),
    ("GET", "/feeds"),
    ("GET", "/gists"),
    ("POST", "/gists"),
    ("GET", "/gists/public"),
    ("GET", "/gists/starred"),
    ("GET", "/gists/{gist_id}"),
    ("PATCH", "/gists/{gist_id}"),
    ("DELETE", "/gists/{gist_id}"),
    ("GET", "/gists/{gist_id}/comments"),
    ("POST", "/gists/{gist_id}/comments"),
    ("GET", "/gists/{gist_id}/comments/{comment_id:int}"),
    ("GET", "/gists/{gist_id}/commits"),
    ("GET", "/gists/{gist_id}/forks"),
    ("POST", "/gists/{gist_id}/forks"),
    ("GET", "/gists/{gist_id}/star"),
    ("PUT", "/gists/{gist_id}/star"),
    ("DELETE", "/gists/{gist_id}/star"),
    ("GET", "/gists/{gist_id}/{sha}"),
    ("GET", "/gitignore/templates"),
    ("GET", "/gitignore/templates/{name}"),
    ("GET", "/installation/repositories"),
    ("GET", "/issues"),
    ("GET", "/licenses"),
    ("GET", "/licenses/{license}"),
    ("POST", "/markdown"),
    ("POST", "/markdown/raw"),
    ("GET", "/marketplace_listing/accounts/{account_id:int}"),
    ("GET", "/marketplace_listing/plans"),
    ("GET", "/meta"),
    ("GET", "/networks/{owner}/{repo}/events"),
    ("GET", "/notifications"),
    ("PUT", "/notifications"),
    ("GET", "/notifications/threads/{thread_id:int}"),
    ("PATCH", "/notifications/threads/{thread_id:int}"),
    ("GET", "/notifications/threads/{thread_id:int}/subscription"),
    ("PUT", "/notifications/threads/{thread_id:int}/subscription"),
    ("GET", "/octocat"),
    ("GET", "/organizations"),
    ("GET", "/orgs/{org}"),
    ("PATCH", "/orgs/{org}"),
    ("GET", "/orgs/{org}/actions/runners"),
    ("GET", "/orgs/{org}/actions/secrets"),
    ("GET", "/orgs/{org}/actions/secrets/{secret_name}"),
    ("PUT", "/orgs/{org}/actions/secrets/{secret_name}"),
    ("GET", "/orgs/{org}/blocks"),
    ("GET", "/orgs/{org}/blocks/{username}"),
    ("PUT", "/orgs/{org}/blocks/{username}"),
    ("GET", "/orgs/{org}/events"),
    ("GET", "/orgs/{org}/hooks"),
    ("POST", "/orgs/{org}/hooks"),
    ("GET", "/orgs/{org}/hooks/{hook_id:int}"),
    ("PATCH", "/orgs/{org}/hooks/{hook_id:int}"),
    ("POST", "/orgs/{org}/hooks/{hook_id:int}/pings"),
    ("GET", "/orgs/{org}/installations"),
    ("GET", "/orgs/{org}/invitations"),
    ("GET", "/orgs/{org}/issues"),
    ("GET", "/orgs/{org}/members"),
    ("GET", "/orgs/{org}/members/{username}"),
    ("DELETE", "/orgs/{org}/members/{username}"),
    ("GET", "/orgs/{org}/memberships/{username}"),
    ("PUT", "/orgs/{org}/memberships/{username}"),
    ("GET", "/orgs/{org}/migrations"),
    ("GET", "/orgs/{org}/migrations/{migration_id:int}"),
    ("GET", "/orgs/{org}/migrations/{migration_id:int}/archive"),
    ("GET", "/orgs/{org}/outside_collaborators"),
    ("GET", "/orgs/{org}/projects"),
    ("GET", "/orgs/{org}/public_members"),
    ("GET", "/orgs/{org}/repos"),
    ("POST", "/orgs/{org}/repos"),
    ("GET", "/orgs/{org}/teams"),
    ("POST", "/orgs/{org}/teams"),
    ("GET", "/orgs/{org}/teams/{team_slug}"),
    ("PATCH", "/orgs/{org}/teams/{team_slug}"),
    ("GET", "/orgs/{org}/teams/{team_slug}/discussions"),
    ("GET", "/orgs/{org}/teams/{team_slug}/discussions/{discussion_number:int}"),
    ("GET", "/orgs/{org}/teams/{team_slug}/members"),
    ("GET", "/orgs/{org}/teams/{team_slug}/repos"),
    ("GET", "/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}"),
    ("GET", "/projects/columns/cards/{card_id:int}"),
    ("POST", "/projects/columns/cards/{card_id:int}/moves"),
    ("GET", "/projects/columns/{column_id:int}"),
    ("GET", "/projects/columns/{column_id:int}/cards"),
    ("GET", "/projects/{project_id:int}"),
    ("GET", "/projects/{project_id:int}/collaborators"),
    ("GET", "/projects/{project_id:int}/columns"),
    ("GET", "/rate_limit"),
    ("GET", "/repos/{owner}/{repo}"),
    ("PATCH", "/repos/{owner}/{repo}"),
    ("DELETE", "/repos/{owner}/{repo}"),
    ("GET", "/repos/{owner}/{repo}/actions/artifacts"),
    ("GET", "/repos/{owner}/{repo}/actions/artifacts/{artifact_id:int}"),
    ("GET", "/repos/{owner}/{repo}/actions/artifacts/{artifact_id:int}/{archive_format}"),
    ("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id:int}"),
    ("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id:int}/logs"),
    ("GET", "/repos/{owner}/{repo}/actions/runs"),
    ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id:int}"),
    ("POST", "/repos/{owner}/{repo}/actions/runs/{run_id:int}/cancel"),
    ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id:int}/jobs"),
    ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id:int}/logs"),
    ("POST", "/repos/{owner}/{repo}/actions/runs/{run_id:int}/rerun"),
    ("GET", "/repos/{owner}/{repo}/actions/secrets"),
    ("GET", "/repos/{owner}/{repo}/actions/secrets/{secret_name}"),
    ("GET", "/repos/{owner}/{repo}/actions/workflows"),
    ("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}"),
    ("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"),
    ("GET", "/repos/{owner}/{repo}/assignees"),
    ("GET", "/repos/{owner}/{repo}/assignees/{assignee}"),
    ("GET", "/repos/{owner}/{repo}/branches"),
    ("GET", "/repos/{owner}/{repo}/branches/{branch}"),
    ("GET", "/repos/{owner}/{repo}/branches/{branch}/protection"),
    ("PUT", "/repos/{owner}/{repo}/branches/{branch}/protection"),
    ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}"),
    ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}/annotations"),
    ("GET", "/repos/{owner}/{repo}/check-suites/{check_suite_id:int}"),
    ("GET", "/repos/{owner}/{repo}/collaborators"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}"),
    ("PUT", "/repos/{owner}/{repo}/collaborators/{username}"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("GET", "/repos/{owner}/{repo}/comments"),
    ("GET", "/repos/{owner}/{repo}/comments/{comment_id:int}"),
    ("GET", "/repos/{owner}/{repo}/commits"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses"),
    ("GET", "/repos/{owner}/{repo}/compare/{basehead}"),
    ("GET", "/repos/{owner}/{repo}/contents/{path:path}"),
    ("PUT", "/repos/{owner}/{repo}/contents/{path:path}"),
    ("DELETE", "/repos/{owner}/{repo}/contents/{path:path}"),
    ("GET", "/repos/{owner}/{repo}/contributors"),
    ("GET", "/repos/{owner}/{repo}/deployments"),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id:int}"),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id:int}/statuses"),
    ("POST", "/repos/{owner}/{repo}/dispatches"),
    ("GET", "/repos/{owner}/{repo}/forks"),
    ("POST", "/repos/{owner}/{repo}/forks"),
    ("POST", "/repos/{owner}/{repo}/git/blobs"),
    ("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}"),
    ("POST", "/repos/{owner}/{repo}/git/commits"),
    ("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}"),
    ("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref:path}"),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref:path}"),
    ("POST", "/repos/{owner}/{repo}/git/refs"),
    ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref:path}"),
    ("GET", "/repos/{owner}/{repo}/git/tags/{tag_sha}"),
    ("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}"),
    ("GET", "/repos/{owner}/{repo}/hooks"),
    ("GET", "/repos/{owner}/{repo}/hooks/{hook_id:int}"),
    ("POST", "/repos/{owner}/{repo}/hooks/{hook_id:int}/tests"),
    ("GET", "/repos/{owner}/{repo}/issues"),
    ("POST", "/repos/{owner}/{repo}/issues"),
    ("GET", "/repos/{owner}/{repo}/issues/comments"),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}"),
    ("GET", "/repos/{owner}/{repo}/issues/events"),
    ("GET", "/repos/{owner}/{repo}/issues/events/{event_id:int}"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number:int}"),
    ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number:int}"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number:int}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number:int}/comments"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number:int}/events"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number:int}/labels"),
    ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number:int}/labels/{name}"),
    ("PUT", "/repos/{owner}/{repo}/issues/{issue_number:int}/lock"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number:int}/timeline"),
    ("GET", "/repos/{owner}/{repo}/keys"),
    ("GET", "/repos/{owner}/{repo}/keys/{key_id:int}"),
    ("GET", "/repos/{owner}/{repo}/labels"),
    ("GET", "/repos/{owner}/{repo}/labels/{name}"),
    ("GET", "/repos/{owner}/{repo}/languages"),
    ("GET", "/repos/{owner}/{repo}/license"),
    ("POST", "/repos/{owner}/{repo}/merges"),
    ("GET", "/repos/{owner}/{repo}/milestones"),
    ("GET", "/repos/{owner}/{repo}/milestones/{milestone_number:int}"),
    ("GET", "/repos/{owner}/{repo}/milestones/{milestone_number:int}/labels"),
    ("GET", "/repos/{owner}/{repo}/notifications"),
    ("GET", "/repos/{owner}/{repo}/pages"),
    ("GET", "/repos/{owner}/{repo}/pages/builds"),
    ("GET", "/repos/{owner}/{repo}/pages/builds/latest"),
    ("GET", "/repos/{owner}/{repo}/pages/builds/{build_id:int}"),
    ("GET", "/repos/{owner}/{repo}/projects"),
    ("GET", "/repos/{owner}/{repo}/pulls"),
    ("POST", "/repos/{owner}/{repo}/pulls"),
    ("GET", "/repos/{owner}/{repo}/pulls/comments"),
    ("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id:int}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}"),
    ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number:int}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/comments"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/commits"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/files"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/merge"),
    ("PUT", "/repos/{owner}/{repo}/pulls/{pull_number:int}/merge"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/reviews"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}/reviews/{review_id:int}"),
    ("GET", "/repos/{owner}/{repo}/readme"),
    ("GET", "/repos/{owner}/{repo}/releases"),
    ("GET", "/repos/{owner}/{repo}/releases/assets/{asset_id:int}"),
    ("GET", "/repos/{owner}/{repo}/releases/latest"),
    ("GET", "/repos/{owner}/{repo}/releases/tags/{tag}"),
    ("GET", "/repos/{owner}/{repo}/releases/{release_id:int}"),
    ("GET", "/repos/{owner}/{repo}/releases/{release_id:int}/assets"),
    ("GET", "/repos/{owner}/{repo}/stargazers"),
    ("GET", "/repos/{owner}/{repo}/stats/contributors"),
    ("GET", "/repos/{owner}/{repo}/statuses/{sha}"),
    ("GET", "/repos/{owner}/{repo}/subscribers"),
    ("GET", "/repos/{owner}/{repo}/subscription"),
    ("GET", "/repos/{owner}/{repo}/tags"),
    ("GET", "/repos/{owner}/{repo}/tarball/{ref}"),
    ("GET", "/repos/{owner}/{repo}/teams"),
    ("GET", "/repos/{owner}/{repo}/topics"),
    ("POST", "/repos/{owner}/{repo}/transfer"),
    ("GET", "/repos/{owner}/{repo}/zipball/{ref}"),
    ("POST", "/repos/{template_owner}/{template_repo}/generate"),
    ("GET", "/repositories"),
    ("GET", "/search/code"),
    ("GET", "/search/commits"),
    ("GET", "/search/issues"),
    ("GET", "/search/labels"),
    ("GET", "/search/repositories"),
    ("GET", "/search/topics"),
    ("GET", "/search/users"),
    ("GET", "/teams/{team_id:int}"),
    ("GET", "/teams/{team_id:int}/members"),
    ("GET", "/user"),
    ("PATCH", "/user"),
    ("GET", "/user/emails"),
    ("GET", "/user/followers"),
    ("GET", "/user/following"),
    ("GET", "/user/following/{username}"),
    ("GET", "/user/installations"),
    ("GET", "/user/issues"),
    ("GET", "/user/keys"),
    ("GET", "/user/keys/{key_id:int}"),
    ("GET", "/user/orgs"),
    ("GET", "/user/repos"),
    ("POST", "/user/repos"),
    ("GET", "/user/starred"),
    ("GET", "/user/starred/{owner}/{repo}"),
    ("GET", "/user/subscriptions"),
    ("GET", "/user/teams"),
    ("GET", "/users"),
    ("GET", "/users/{username}"),
    ("GET", "/users/{username}/events"),
    ("GET", "/users/{username}/followers"),
    ("GET", "/users/{username}/following"),
    ("GET", "/users/{username}/following/{target_user}"),
    ("GET", "/users/{username}/gists"),
    ("GET", "/users/{username}/keys"),
    ("GET", "/users/{username}/orgs"),
    ("GET", "/users/{username}/received_events"),
    ("GET", "/users/{username}/repos"),
    ("GET", "/users/{username}/starred"),
    ("GET", "/users/{username}/subscriptions"),
    ("GET", "/zen"),
]


if __name__ == "__main__":
    main()
