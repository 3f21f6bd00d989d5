"""Fixtures for keys/ live in the top-level conftest, shared with registry tests."""
