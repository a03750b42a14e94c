"""Pure graph walks over a plan's finish-to-start edges (predecessor -> successor)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping


def adjacency(edges: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        out[source].append(target)
    return out


def path_between(edges: Iterable[tuple[str, str]], start: str, goal: str) -> list[str] | None:
    """A shortest path ``start -> ... -> goal`` along the edges, or None."""
    succ = adjacency(edges)
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while (prev := parent[path[-1]]) is not None:
                path.append(prev)
            return path[::-1]
        for nxt in succ.get(node, ()):
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return None


def reachable(neighbours: Mapping[str, list[str]], start: str, max_depth: int | None = None) -> list[tuple[str, int]]:
    """Nodes reachable from ``start`` (excluded) with their depth, breadth first.

    Each node is visited once, so dense plans cost O(edges), never the number of paths.
    """
    depth = {start: 0}
    order: list[tuple[str, int]] = []
    queue = deque([start])
    while queue:
        node = queue.popleft()
        d = depth[node]
        if max_depth is not None and d >= max_depth:
            continue
        for nxt in sorted(neighbours.get(node, ())):
            if nxt not in depth:
                depth[nxt] = d + 1
                order.append((nxt, d + 1))
                queue.append(nxt)
    return order
