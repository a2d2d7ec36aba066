"""The pure-Python matcher: the same min-index tree walk as the native one, on ``str`` code points.

Build once from the table's entries, then ``lookup(path, method_bit, type_bit)`` answers the lowest
registration index whose template, type bit and method match (``full``), the lowest index whose template
and type match but not the method (``partial``, only below ``full``), the opaque entries to test in
Python, and the code-point spans of ``full``'s parameters.

Exactness w.r.t. Python ``re`` (each template is ``^lit(?P<p>rx)lit...$``):
- every matching branch is explored (pruned only when it cannot hold an index below the best full hit);
- a parameter's candidate ends are tried in the order ``re`` tries them (greedy, longest first; ``float``
  with its fraction before without), so the first time a route's leaf is reached its spans are the ones
  ``re.match`` would report;
- the end anchor accepts the end of the path or a single final ``"\\n"`` (``$`` semantics).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ._template import FLOAT, INT, LIT, PATH, STR, UUID, path_type_error

__all__ = ["WORK_BUDGET", "Matcher", "build"]

# Steps (nodes entered + parameter ends tried) one lookup may spend before giving up and letting the table
# answer with the regex loop. Ordinary tables need a few dozen; only pathological tables (several
# parameters sharing one segment of a long path) get near it.
WORK_BUDGET = 20_000

# Above this many distinct literal continuations after a parameter, candidate ends are found by scanning
# for the continuations' first characters instead of by testing each continuation against the path end.
_MAX_SUFFIX_CHOICES = 16

_DIGITS = re.compile(r"[0-9]+")
_UUID_AT = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")

Entry = tuple[int, int, int, bool, Sequence[tuple[int, bytes]]]
Answer = tuple[int, int, tuple[int, ...], tuple[int, ...]]

_NO_INDEX = 1 << 62


class _OverBudget(Exception):
    pass


class _Node:
    __slots__ = (
        "leaves",
        "min_idx",
        "params",
        "static",
        "first_chars",
        "suffix_lens",
        "any_start",
        "slash_only",
        "_chars",
    )

    def __init__(self) -> None:
        self.min_idx = _NO_INDEX
        # (index, type_mask, method_mask), ascending index: entries whose template ends here.
        self.leaves: list[tuple[int, int, int]] = []
        # first character -> (label, child, child's min index), labels compressed (radix tree).
        self.static: dict[str, tuple[str, _Node, int]] = {}
        # (kind, child, child's min index), ascending min index.
        self.params: list[tuple[int, _Node, int]] = []
        # How a parameter that ends where this node starts may end (see _Node.finish):
        self.any_start = False
        self.slash_only = False
        self.first_chars = ""
        self.suffix_lens: tuple[int, ...] | None = None
        # Construction-time trie: one character per edge, compressed by finish().
        self._chars: dict[str, _Node] = {}

    def finish(self) -> None:
        """Compress char edges, order children by min index, precompute end hints (children already done)."""
        low = self.leaves[0][0] if self.leaves else _NO_INDEX
        params = [(kind, child, child.min_idx) for kind, child, _ in self.params]
        params.sort(key=lambda item: item[2])
        self.params = params
        if params:
            low = min(low, params[0][2])
        suffixes: set[int] | None = None if params else ({0} if self.leaves else set())
        for first, child in self._chars.items():
            label = first
            while not child.leaves and not child.params and len(child._chars) == 1:
                ((char, child),) = child._chars.items()
                label += char
            self.static[first] = (label, child, child.min_idx)
            low = min(low, child.min_idx)
            if suffixes is not None:
                if child.suffix_lens is None:
                    suffixes = None
                else:
                    suffixes.update(len(label) + length for length in child.suffix_lens)
                    if len(suffixes) > _MAX_SUFFIX_CHOICES:
                        suffixes = None
        self.min_idx = low
        self.any_start = bool(self.params)
        self.first_chars = "".join(sorted(self.static))
        self.slash_only = not self.any_start and not self.leaves and self.first_chars == "/"
        self.suffix_lens = tuple(sorted(suffixes)) if suffixes is not None else None


def _finish_tree(root: _Node) -> None:
    # Children before parents, without recursion: trees can be thousands of nodes deep.
    order: list[_Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(child for _, child, _ in node.params)
        stack.extend(node._chars.values())
    for node in reversed(order):
        node.finish()
    for node in order:
        node._chars = {}


def _insert(root: _Node, index: int, type_mask: int, method_mask: int, tokens: Iterable[tuple[int, str]]) -> None:
    node = root
    for kind, text in tokens:
        if kind == LIT:
            for char in text:
                child = node._chars.get(char)
                if child is None:
                    child = node._chars[char] = _Node()
                node = child
        else:
            for existing_kind, child, _ in node.params:
                if existing_kind == kind:
                    node = child
                    break
            else:
                child = _Node()
                node.params.append((kind, child, 0))
                node = child
    node.leaves.append((index, type_mask, method_mask))


def _candidate_ends(kind: int, path: str, pos: int, size: int, nxt: _Node) -> Sequence[int]:
    """Ends of a ``kind`` parameter starting at ``pos``, in ``re``'s order, keeping only ends from which
    ``nxt`` can possibly continue."""
    if kind == STR or kind == INT or kind == PATH:
        if kind == STR:
            hi = path.find("/", pos)
            if hi < 0:
                hi = size
            lo = pos + 1
        elif kind == INT:
            found = _DIGITS.match(path, pos)
            if found is None:
                return ()
            hi = found.end()
            lo = pos + 1
        else:
            hi = path.find("\n", pos)
            if hi < 0:
                hi = size
            lo = pos
        if hi < lo:
            return ()
        if nxt.any_start:
            return range(hi, lo - 1, -1)
        if nxt.slash_only:
            # The usual `{param}/...`: only a "/" can follow, and str/int runs stop right before one.
            if kind != PATH:
                return (hi,) if hi < size and path[hi] == "/" else ()
        suffix_lens = nxt.suffix_lens
        if suffix_lens is not None:
            if len(suffix_lens) == 1:
                end = size - suffix_lens[0]
                if size and path[-1] == "\n" and lo <= end - 1 <= hi:
                    return (end, end - 1) if end <= hi else (end - 1,)
                return (end,) if lo <= end <= hi else ()
            # Only literals (then the end anchor) can follow: the parameter must end exactly where one of
            # them would reach the end of the path, or the final "\n".
            ends: set[int] = set()
            newline_end = size > 0 and path[-1] == "\n"
            for length in suffix_lens:
                end = size - length
                if lo <= end <= hi:
                    ends.add(end)
                if newline_end and lo <= end - 1 <= hi:
                    ends.add(end - 1)
            return sorted(ends, reverse=True)
        found_ends: set[int] = set()
        if nxt.leaves:
            if lo <= size <= hi:
                found_ends.add(size)
            if size and path[-1] == "\n" and lo <= size - 1 <= hi:
                found_ends.add(size - 1)
        for char in nxt.first_chars:
            at = path.rfind(char, lo, hi + 1)
            while at >= 0:
                found_ends.add(at)
                at = path.rfind(char, lo, at)
        return sorted(found_ends, reverse=True)
    if kind == FLOAT:
        found = _DIGITS.match(path, pos)
        if found is None:
            return ()
        whole_end = found.end()
        float_ends: list[int] = []
        if whole_end < size and path[whole_end] == ".":
            fraction = _DIGITS.match(path, whole_end + 1)
            if fraction is not None:
                float_ends.extend(range(fraction.end(), whole_end + 1, -1))
        float_ends.extend(range(whole_end, pos, -1))
        return float_ends
    if kind == UUID:
        found = _UUID_AT.match(path, pos)
        return (found.end(),) if found is not None else ()
    raise ValueError(f"unknown token kind {kind}")


class Matcher:
    """An immutable matching tree; ``lookup`` is safe to call from many threads at once."""

    __slots__ = ("_root", "_opaque")

    def __init__(self, root: _Node, opaque: list[tuple[int, int, str]]) -> None:
        self._root = root
        self._opaque = opaque

    def lookup(self, path: str, method_bit: int, type_bit: int) -> Answer | None:
        """``(full, partial, opaque_candidates, spans)``, or None when the walk would exceed its budget."""
        if not isinstance(path, str):
            raise path_type_error(path)
        size = len(path)
        best_full = _NO_INDEX
        best_partial = _NO_INDEX
        best_spans: tuple[int, ...] = ()
        spans: list[int] = []
        budget = WORK_BUDGET

        def walk(node: _Node, pos: int) -> None:
            nonlocal best_full, best_partial, best_spans, budget
            # Loops down static edges and recurses only where a parameter edge forks the search.
            while True:
                budget -= 1
                if budget < 0:
                    raise _OverBudget
                if node.leaves and (pos == size or (pos == size - 1 and path[pos] == "\n")):
                    for index, type_mask, method_mask in node.leaves:
                        if index >= best_full:
                            break
                        if type_mask & type_bit:
                            if method_mask == 0 or method_mask & method_bit:
                                best_full = index
                                best_spans = tuple(spans)
                                break
                            if index < best_partial:
                                best_partial = index
                static = node.static.get(path[pos]) if pos < size else None
                if static is not None and not path.startswith(static[0], pos):
                    static = None
                for kind, child, child_min in node.params:
                    if static is not None and static[2] < child_min:
                        if static[2] >= best_full:
                            return
                        walk(static[1], pos + len(static[0]))
                        static = None
                    if child_min >= best_full:
                        return
                    for end in _candidate_ends(kind, path, pos, size, child):
                        budget -= 1
                        spans.append(pos)
                        spans.append(end)
                        walk(child, end)
                        del spans[-2:]
                        if child_min >= best_full:
                            break
                if static is None or static[2] >= best_full:
                    return
                pos += len(static[0])
                node = static[1]

        try:
            walk(self._root, 0)
        except (_OverBudget, RecursionError):
            # RecursionError: a template deeper than the interpreter's stack (thousands of nested edges).
            return None
        full = best_full if best_full != _NO_INDEX else -1
        partial = best_partial if best_partial < best_full else -1
        if not self._opaque:
            return full, partial, (), best_spans if full != -1 else ()
        candidates = tuple(
            index
            for index, type_mask, prefix in self._opaque
            if index < best_full and type_mask & type_bit and path.startswith(prefix)
        )
        return full, partial, candidates, best_spans if full != -1 else ()


def build(entries: Iterable[Entry]) -> Matcher:
    """Build a matcher from ``(index, type_mask, method_mask, opaque, tokens)`` entries (any order)."""
    root = _Node()
    opaque: list[tuple[int, int, str]] = []
    for index, type_mask, method_mask, is_opaque, tokens in sorted(entries, key=lambda entry: entry[0]):
        decoded = [(kind, text.decode("utf-8", "surrogatepass")) for kind, text in tokens]
        if is_opaque:
            prefix = "".join(text for kind, text in decoded if kind == LIT)
            opaque.append((index, type_mask, prefix))
        else:
            _insert(root, index, type_mask, method_mask, decoded)
    _finish_tree(root)
    return Matcher(root, opaque)
