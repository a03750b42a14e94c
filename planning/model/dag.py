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


def find_cycle(edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """One cycle of the edges, as the nodes in order, or None when they form a DAG (Kahn)."""
    edge_list = list(edges)
    succ = adjacency(edge_list)
    indegree: dict[str, int] = defaultdict(int)
    nodes = {n for edge in edge_list for n in edge}
    for _, target in edge_list:
        indegree[target] += 1
    ready = deque(n for n in nodes if indegree[n] == 0)
    while ready:
        node = ready.popleft()
        nodes.discard(node)
        for nxt in succ.get(node, ()):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    if not nodes:
        return None
    # Every node left has a predecessor left, so walking forward inside them must repeat.
    walk: list[str] = []
    seen: dict[str, int] = {}
    node = min(nodes)
    while node not in seen:
        seen[node] = len(walk)
        walk.append(node)
        node = min(n for n in succ[node] if n in nodes)
    return walk[seen[node] :]
