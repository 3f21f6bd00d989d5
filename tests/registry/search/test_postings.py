"""``Postings``: built at once (a full load) or a word at a time, it answers as a plain set does.

A full load gives a word first seen in one body that one position, and a word
of many bodies a bitmap; later changes move a word between the three forms.
Whatever the history, ``union`` must give exactly the positions a naive
word -> set model gives.
"""

from __future__ import annotations

from array import array
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.search.bitmaps import DENSE, Postings, bits_of, iter_bits

SIZE = 200
WORDS = st.integers(0, 30)
#: Each position's words; some words common (past DENSE), most rare.
BODIES = st.lists(
    st.sets(st.one_of(WORDS, st.integers(31, 400)), max_size=12), min_size=1, max_size=SIZE
)
CHANGES = st.lists(
    st.tuples(st.booleans(), st.integers(0, 400), st.integers(0, SIZE - 1)), max_size=60
)


def positions(bits: int) -> set[int]:
    return set(iter_bits(bits, 0, bits.bit_count()))


@settings(max_examples=150, deadline=None)
@given(bodies=BODIES, changes=CHANGES, common=st.booleans())
def test_postings_answer_as_a_set_does(bodies, changes, common) -> None:
    if common:  # enough bodies share word 0 for it to become a bitmap
        bodies = [body | {0} for body in bodies] * (DENSE // len(bodies) + 2)
        bodies = bodies[:SIZE]
    postings = Postings()
    seen: set[int] = set()
    for position, body in enumerate(bodies):  # as a full load meets them: new words last
        new = sorted(body - seen)
        postings.load(array("i", sorted(body & seen) + new), len(new), position)
        seen |= body
    postings.finish_load(SIZE)
    model: dict[int, set[int]] = defaultdict(set)
    for position, body in enumerate(bodies):
        for word in body:
            model[word].add(position)
    if common:
        assert 0 in postings.dense
    assert not any(len(found) == 1 for found in postings.small.values())
    for adding, word, position in changes:
        if adding:
            if position not in model[word]:
                postings.add(word, position)
                model[word].add(position)
        else:
            postings.remove(word, position)
            model[word].discard(position)
    for word in range(401):
        assert positions(postings.union([word], SIZE)) == model.get(word, set()), word
    everything = set().union(*model.values())
    assert positions(postings.union(range(401), SIZE)) == everything


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 3000).flatmap(
        lambda size: st.tuples(st.just(size), st.lists(st.integers(0, size - 1), max_size=400))
    )
)
def test_bitmaps_hold_exactly_their_positions(sized) -> None:
    """Both ways of making a bitmap (many positions, or a few) set exactly the given bits."""
    size, found = sized
    bits = bits_of(found, size)
    assert positions(bits) == set(found)
    assert bits.bit_length() <= size
