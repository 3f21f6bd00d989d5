"""RFC 9162 Merkle trees: hashes, inclusion and consistency proofs, and tile arithmetic.

Pure functions with no I/O, in the manner of Go's ``sumdb/tlog``: storage
hands them a way to read the hash of any perfect subtree (``Hashes``), and
they do the rest. A perfect subtree is named by its height ``level`` and its
position ``index`` at that height: it covers leaves
``[index * 2**level, (index + 1) * 2**level)``.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator, Sequence

HASH_SIZE = 32
#: Tiles are 2**8 hashes wide (C2SP tlog-tiles).
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: Reads the hash of the perfect subtree (level, index).
Hashes = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof that cannot be made or does not verify; the message says which."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 section 2.1.1: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 section 2.1.1: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(hashes: Hashes, start: int, end: int) -> bytes:
    """MTH(D[start:end]) from stored perfect subtrees; ``start`` is aligned as RFC splits are."""
    size = end - start
    if size <= 0:
        raise ProofError("an empty range has no subtree hash")
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return hashes(level, start >> level)
    k = _split(size)
    return node_hash(subtree_hash(hashes, start, start + k), subtree_hash(hashes, start + k, end))


def wanted(compute: Callable[[Hashes], object]) -> set[tuple[int, int]]:
    """The perfect subtrees ``compute`` reads: which subtrees a proof needs does not
    depend on their hashes, so storage can fetch them all in one query first."""
    seen: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        seen.add((level, index))
        return EMPTY_ROOT

    compute(record)
    return seen


def root_hash(hashes: Hashes, size: int) -> bytes:
    return EMPTY_ROOT if size == 0 else subtree_hash(hashes, 0, size)


def inclusion_proof(hashes: Hashes, index: int, size: int) -> list[bytes]:
    """RFC 9162 section 2.1.3.1: PATH(index, D[0:size])."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(hashes, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(hashes, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(hashes: Hashes, old: int, new: int) -> list[bytes]:
    """RFC 9162 section 2.1.4.1: PROOF(old, D[0:new])."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    proof: list[bytes] = []

    def subproof(m: int, start: int, end: int, whole: bool) -> None:
        n = end - start
        if m == n:
            if not whole:
                proof.append(subtree_hash(hashes, start, end))
            return
        k = _split(n)
        if m <= k:
            subproof(m, start, start + k, whole)
            proof.append(subtree_hash(hashes, start + k, end))
        else:
            subproof(m - k, start + k, end, False)
            proof.append(subtree_hash(hashes, start, start + k))

    subproof(old, 0, new, True)
    return proof


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2; raises ``ProofError`` unless ``leaf`` is at ``index``."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    if r != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2; raises ``ProofError`` unless ``old`` is a prefix of ``new``."""
    if old == new:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if old_root != new_root:
            raise ProofError("the same size with two roots: the log forked")
        return
    if not 0 < old < new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new root")


# --- tiles (C2SP tlog-tiles) ---------------------------------------------------------


def tile_path(index: int) -> str:
    """``1234067`` -> ``x001/x234/067``: 3-digit parts, all but the last prefixed ``x``."""
    digits = f"{index:d}"
    digits = "0" * (-len(digits) % 3) + digits
    parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{p}" for p in parts[:-1]), parts[-1]])


def parse_tile_path(path: str) -> int:
    """The inverse of ``tile_path``, refusing any other spelling of the same number."""
    parts = path.split("/")
    if not parts or any(
        len(p) != (4 if i < len(parts) - 1 else 3)
        or (i < len(parts) - 1 and p[0] != "x")
        or not p[-3:].isascii()
        or not p[-3:].isdigit()
        for i, p in enumerate(parts)
    ):
        raise ProofError("not a tile index")
    index = int("".join(p[-3:] for p in parts))
    if tile_path(index) != path:
        raise ProofError("not the canonical spelling of a tile index")
    return index


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile ``index`` at ``level`` holds in a tree of ``size`` (0 to 256)."""
    hashes_at_level = size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, hashes_at_level - index * TILE_WIDTH))


def read_bundle(data: bytes) -> Iterator[bytes]:
    """The entries of a bundle, refusing a truncated one."""
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise ProofError("the entry bundle is truncated")
        (length,) = struct.unpack(">H", data[at : at + 2])
        if at + 2 + length > len(data):
            raise ProofError("the entry bundle is truncated")
        yield data[at + 2 : at + 2 + length]
        at += 2 + length
