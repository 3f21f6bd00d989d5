"""Cases: every legal act, proposed by one person and decided by another, with its effect."""
