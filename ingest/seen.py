"""A fixed-size Bloom filter over ids seen during one ingest run.

It lets a load into a store that held none of these rows skip the per-row existence query:
an id the filter has never seen is certainly new; only "maybe seen" ids (earlier batches, or
rare false positives) are checked against the store, so the result stays exact while memory
stays fixed (16 MiB) whatever the file size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BITS = 1 << 27
_MASK = np.uint64(BITS - 1)
_MIX = np.uint64(0x9E3779B97F4A7C15)


class SeenFilter:
    def __init__(self) -> None:
        self.bits = np.zeros(BITS // 8, dtype=np.uint8)

    def _probes(self, ids: Sequence[str]) -> list[np.ndarray]:
        h = np.fromiter((hash(i) for i in ids), dtype=np.int64, count=len(ids)).view(np.uint64)
        mixed = h * _MIX
        return [h & _MASK, (h >> np.uint64(27)) & _MASK, (mixed >> np.uint64(37)) & _MASK]

    def check_and_add(self, ids: Sequence[str]) -> np.ndarray:
        """True where an id may have been added before; then adds them all."""
        probes = self._probes(ids)
        maybe = np.ones(len(ids), dtype=bool)
        for p in probes:
            maybe &= (self.bits[p >> np.uint64(3)] >> (p & np.uint64(7)).astype(np.uint8)) & 1 == 1
        for p in probes:
            np.bitwise_or.at(
                self.bits, p >> np.uint64(3), (1 << (p & np.uint64(7))).astype(np.uint8)
            )
        return maybe
