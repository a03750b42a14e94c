"""Counter-based random streams: iteration ``i`` of stream ``j`` is fixed.

Each task (and each risk) owns a Philox-4x64 key derived from the seed with
``SeedSequence(seed, spawn_key=(kind,))``.  Philox is counter based: counter
``c`` yields four 64-bit words, i.e. eight 32-bit words, and we give word
``i`` of that sequence to iteration ``i``.  Any range of iterations can
therefore be generated directly by starting the counter at ``i // 8``; results
never depend on block size or on how iterations are split into shards.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

UIntArray = npt.NDArray[np.uint32]
KeyArray = npt.NDArray[np.uint64]

TASK_STREAM = 0
RISK_STREAM = 1

_WORDS_PER_COUNTER = 8  # 4 x uint64 = 8 x uint32
U32_SCALE = 2.0**-32


def stream_keys(seed: int, count: int, kind: int) -> KeyArray:
    """``count`` Philox keys (shape ``(count, 2)``) for streams of one kind."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    if count == 0:
        return np.zeros((0, 2), dtype=np.uint64)
    seq = np.random.SeedSequence(seed, spawn_key=(kind,))
    state = seq.generate_state(2 * count, np.uint64)
    return np.asarray(state, dtype=np.uint64).reshape(count, 2)


def uniform_bits(key: KeyArray, start: int, stop: int) -> UIntArray:
    """32-bit random words for iterations ``start .. stop-1`` of one stream."""
    block = start // _WORDS_PER_COUNTER
    offset = start - block * _WORDS_PER_COUNTER
    count = stop - start
    counter = np.array([block, 0, 0, 0], dtype=np.uint64)
    gen = np.random.Philox(key=key, counter=counter)
    raw = gen.random_raw((offset + count + 1) // 2)
    words = raw.astype("<u8", copy=False).view("<u4")
    return np.asarray(words[offset : offset + count], dtype=np.uint32)


def to_uniform(bits: UIntArray) -> npt.NDArray[np.float64]:
    """Map 32-bit words to the open interval (0, 1)."""
    return (bits.astype(np.float64) + 0.5) * U32_SCALE


class WordStream:
    """Sequential reader of one stream's words, starting at iteration ``start``.

    Generating block after block from one Philox instance avoids rebuilding
    the bit generator for every block; the words are the same as
    :func:`uniform_bits` would give for any range.
    """

    def __init__(self, key: KeyArray, start: int) -> None:
        block = start // _WORDS_PER_COUNTER
        self._gen = np.random.Philox(key=key, counter=np.array([block, 0, 0, 0], dtype=np.uint64))
        skip = start - block * _WORDS_PER_COUNTER
        if skip >= 2:
            self._gen.random_raw(skip // 2)
        self._pending: UIntArray | None = None
        if skip % 2:
            self._pending = self._words(1)[1:]

    def _words(self, raw_count: int) -> UIntArray:
        raw = self._gen.random_raw(raw_count)
        return np.asarray(raw.astype("<u8", copy=False).view("<u4"), dtype=np.uint32)

    def take(self, count: int, out: UIntArray) -> None:
        """Write the next ``count`` words into ``out``."""
        head = 0
        if self._pending is not None and count:
            out[0] = self._pending[0]
            self._pending = None
            head = 1
        rest = count - head
        words = self._words((rest + 1) // 2)
        out[head:count] = words[:rest]
        if rest % 2:
            self._pending = words[rest:]
