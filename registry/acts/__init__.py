"""The legal acts that change register facts, each applied through ``changes.record``.

Status decisions live here today; the staff back office's cases end in these.
"""
