"""Search over the register: text folding, queries, index maintenance, in-memory bitmaps."""
