"""RFC 9162 hashing and proofs: published vectors, the RFC's own definitions, and pymerkle."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from verifier import merkle
from verifier.merkle import ProofError

#: The RFC 6962 test leaves, and the roots published for the first 1 to 8 of them.
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
#: transparency-dev/merkle's published consistency proof from size 1 to size 8.
PROOF_1_8 = [
    "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
    "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
    "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
]


# The RFC's definitions, written out as plainly as it states them (section 2.1).
def mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    return [*path(m, d[:k]), mth(d[k:])] if m < k else [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def stored(leaves: list[bytes]) -> merkle.Hashes:
    """Every perfect subtree, as the log stores them."""
    nodes = {(0, i): merkle.leaf_hash(x) for i, x in enumerate(leaves)}
    level = 0
    while len(leaves) >> level > 1:
        for i in range((len(leaves) >> level) // 2):
            nodes[(level + 1, i)] = merkle.node_hash(
                nodes[(level, 2 * i)], nodes[(level, 2 * i + 1)]
            )
        level += 1
    return lambda lv, ix: nodes[(lv, ix)]


def test_the_published_roots_and_proof():
    for n in range(1, 9):
        assert merkle.root_hash(stored(LEAVES[:n]), n).hex() == ROOTS[n - 1]
    proof = merkle.consistency_proof(stored(LEAVES), 1, 8)
    assert [base64.b64encode(p).decode() for p in proof] == PROOF_1_8
    merkle.verify_consistency(1, 8, bytes.fromhex(ROOTS[0]), bytes.fromhex(ROOTS[7]), proof)
    assert merkle.root_hash(stored([]), 0) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("n", range(1, 40))
def test_proofs_are_the_rfcs_and_verify(n):
    leaves = [f"leaf {i}".encode() for i in range(n)]
    hashes = stored(leaves)
    root = merkle.root_hash(hashes, n)
    assert root == mth(leaves)
    for m in range(n):
        proof = merkle.inclusion_proof(hashes, m, n)
        assert proof == path(m, leaves)
        merkle.verify_inclusion(merkle.leaf_hash(leaves[m]), m, n, proof, root)
    for m in range(1, n + 1):
        proof = merkle.consistency_proof(hashes, m, n)
        assert proof == subproof(m, leaves, True)
        merkle.verify_consistency(m, n, mth(leaves[:m]), root, proof)


def test_pymerkle_agrees_on_every_root():
    """An independent implementation (pymerkle) builds the same trees."""
    tree = InmemoryTree(algorithm="sha256")
    leaves = [f"entry {i}".encode() for i in range(300)]
    for leaf in leaves:
        tree.append_entry(leaf)
    hashes = stored(leaves)
    for size in (1, 2, 3, 7, 64, 255, 256, 257, 300):
        assert merkle.root_hash(hashes, size) == tree.get_root(size)
        for index in (0, size // 2, size - 1):
            merkle.verify_inclusion(
                merkle.leaf_hash(leaves[index]),
                index,
                size,
                merkle.inclusion_proof(hashes, index, size),
                tree.get_root(size),
            )


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 70), st.data())
def test_a_changed_proof_never_verifies(n, data):
    leaves = [bytes([i]) * 3 for i in range(n)]
    hashes = stored(leaves)
    root = merkle.root_hash(hashes, n)
    m = data.draw(st.integers(0, n - 1))
    proof = merkle.inclusion_proof(hashes, m, n)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof]
        bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
        with pytest.raises(ProofError):
            merkle.verify_inclusion(merkle.leaf_hash(leaves[m]), m, n, bad, root)
        with pytest.raises(ProofError):
            merkle.verify_inclusion(merkle.leaf_hash(leaves[m]), m, n, proof[:-1], root)
        with pytest.raises(ProofError):
            merkle.verify_inclusion(merkle.leaf_hash(leaves[m]), m, n, [*proof, proof[0]], root)
    old = data.draw(st.integers(1, n - 1))
    consistency = merkle.consistency_proof(hashes, old, n)
    k = data.draw(st.integers(0, len(consistency) - 1))
    bad = [*consistency]
    bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, n, mth(leaves[:old]), root, bad)
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, n, mth(leaves[:old]), root, [])
    forked = [*leaves[: old - 1], b"forged", *leaves[old:]]
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, n, mth(forked[:old]), root, consistency)


@pytest.mark.parametrize(
    ("index", "path_"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_tile_paths_follow_tlog_tiles(index, path_):
    assert merkle.tile_path(index) == path_
    assert merkle.parse_tile_path(path_) == index


@pytest.mark.parametrize(
    "bad", ["1", "0007", "x000/007", "001/002", "x1/002", "abc", "", "x001/", "-01"]
)
def test_other_spellings_of_a_tile_index_are_refused(bad):
    with pytest.raises(ProofError):
        merkle.parse_tile_path(bad)


def test_partial_tile_widths():
    # A tree of 70,000: 273 full level-0 tiles and a partial one of 112, a full
    # level-1 tile and a partial one of 17, a partial level-2 tile of 1 (C2SP).
    assert merkle.tile_width(0, 272, 70_000) == 256
    assert merkle.tile_width(0, 273, 70_000) == 112
    assert merkle.tile_width(1, 0, 70_000) == 256
    assert merkle.tile_width(1, 1, 70_000) == 17
    assert merkle.tile_width(2, 0, 70_000) == 1
    assert merkle.tile_width(0, 274, 70_000) == 0
