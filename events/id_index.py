"""Ids looked up many times: every block of a fills or orders file asks which of its accounts
exist among the loaded ones, and every day file written asks for its accounts' codes.

pyarrow's ``is_in`` builds a hash table for every call, so asking about a block means hashing
either the block's ids or all the known ones, every time: with 10^6 accounts that was ~45 ms per
account column of a 70k-row block, 26 s of an L fills file and more of its orders. Here the known
ids are hashed once (numpy, 64-bit words of the ids padded to a fixed width) and sorted; a block's
ids are hashed the same way and found by binary search, and every hit is compared byte for byte,
so the answer is exact whatever the hash does. Ids that are not plain ASCII, or hold a space (the
padding), are looked up the slow way among the known ones of their kind: in practice none.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

_PAD = " "  # padding ids to one width with a byte they do not hold keeps different ids apart
_MIX = np.uint64(0x9E3779B97F4A7C15)


class IdIndex:
    """Where each of some values stands among ``ids`` (-1: absent), as ``pc.index_in`` says;
    a null is never found."""

    def __init__(self, ids: pa.Array | pa.ChunkedArray) -> None:
        ids = _whole(ids).cast(pa.string())
        self.size = len(ids)
        self._ids = ids
        fast = _mask(_fast(ids))
        others = _mask(pc.is_valid(ids)) & ~fast  # non-ASCII or with a space: asked slowly
        self._others_at = np.flatnonzero(others)
        self._others = ids.filter(pa.array(others))
        plain = ids.filter(pa.array(fast))
        longest = pc.max(pc.binary_length(plain)).as_py() if len(plain) else None
        self._width = -(-int(longest or 1) // 8) * 8  # whole 64-bit words
        fixed = _fixed(plain, self._width)
        hashes = _hash(fixed, self._width)
        order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[order]
        self._fixed = fixed[order]
        self._at = np.flatnonzero(fast)[order]
        # Two ids with one hash (a repeated id, or odds ~10^-8 at 10^6 ids) would hide one of
        # them from a single binary search: then every question is answered the slow, exact way.
        self._unique = bool(np.all(np.diff(self._hashes) != 0))

    def positions(self, values: pa.Array | pa.ChunkedArray) -> NDArray[np.int64]:
        """Each value's position among the ids (the first, if an id is there twice), or -1."""
        values = _whole(values).cast(pa.string())
        found = np.full(len(values), -1, dtype=np.int64)
        fast = _fast(values)
        slow = _mask(pc.and_(pc.invert(fast), pc.is_valid(values)))
        if slow.any() and len(self._others):  # ids hashed here never equal the others
            at = _ints(pc.index_in(values.filter(pa.array(slow)), value_set=self._others))
            found[slow] = np.where(at >= 0, self._others_at[np.maximum(at, 0)], -1)
        near = _mask(pc.and_(fast, pc.less_equal(pc.binary_length(values), self._width)))
        if not near.any() or not len(self._hashes):
            return found
        asked = values.filter(pa.array(near))
        if not self._unique:
            found[near] = _ints(pc.index_in(asked, value_set=self._ids))
            return found
        fixed = _fixed(asked, self._width)
        hashes = _hash(fixed, self._width)
        at = np.searchsorted(self._hashes, hashes)
        at[at == len(self._hashes)] = 0
        hit = (self._hashes[at] == hashes) & (self._fixed[at] == fixed)
        found[near] = np.where(hit, self._at[at], -1)
        return found

    def contains(self, values: pa.Array | pa.ChunkedArray) -> NDArray[np.bool_]:
        """A boolean per value: is it one of the ids."""
        return self.positions(values) >= 0


def _whole(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _fast(ids: pa.Array) -> pa.Array:
    """Ids hashed as fixed-width bytes: ASCII (one byte a character) without the padding byte."""
    return pc.fill_null(
        pc.and_(pc.string_is_ascii(ids), pc.invert(pc.match_substring(ids, _PAD))), False
    )


def _mask(flags: pa.Array) -> NDArray[np.bool_]:
    return np.asarray(pc.fill_null(flags, False).to_numpy(zero_copy_only=False), dtype=bool)


def _ints(found: pa.Array) -> NDArray[np.int64]:
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _fixed(values: pa.Array, width: int) -> np.ndarray:
    """ASCII ids of at most ``width`` bytes as one fixed-width byte string each (space-padded)."""
    if not len(values):
        return np.zeros(0, dtype=f"S{width}")
    padded = pc.ascii_rpad(values, width=width, padding=_PAD)
    _, offsets, data = padded.buffers()
    start = int(np.frombuffer(offsets, dtype=np.int32, count=1, offset=padded.offset * 4)[0])
    return np.frombuffer(data, dtype=f"S{width}", count=len(padded), offset=start)


def _hash(fixed: np.ndarray, width: int) -> np.ndarray:
    """A 64-bit hash of each fixed-width id (exact, a plain copy of the bytes, up to 8 bytes)."""
    words = np.ascontiguousarray(fixed).view(np.uint64).reshape(len(fixed), width // 8)
    hashes = words[:, 0].copy()
    for column in range(1, words.shape[1]):
        hashes *= _MIX
        hashes ^= hashes >> np.uint64(29)
        hashes += words[:, column]
    return hashes
