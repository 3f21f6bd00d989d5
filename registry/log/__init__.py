"""The public log of every register fact: RFC 9162 Merkle tree, C2SP checkpoints and tiles."""
