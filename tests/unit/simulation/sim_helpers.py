"""Shared helpers for the simulation engine tests."""

from __future__ import annotations

import numpy as np

from simulation.network import Network

# General Foundry (Render, Stair & Hanna), weeks: (a, m, b) and predecessors.
FOUNDRY = {
    "A": ((1, 2, 3), ()),
    "B": ((2, 3, 4), ()),
    "C": ((1, 2, 3), ("A",)),
    "D": ((2, 4, 6), ("A", "B")),
    "E": ((1, 4, 7), ("C",)),
    "F": ((1, 2, 9), ("C",)),
    "G": ((3, 4, 11), ("D", "E")),
    "H": ((1, 2, 3), ("F", "G")),
}


def foundry_network() -> tuple[Network, np.ndarray, np.ndarray, np.ndarray]:
    keys = list(FOUNDRY)
    edges = [(p, k, 0.0) for k, (_est, preds) in FOUNDRY.items() for p in preds]
    net = Network.from_keys(keys, edges)
    est = np.array([FOUNDRY[k][0] for k in keys], dtype=float)
    return net, est[:, 0], est[:, 1], est[:, 2]
