"""The agency's staff: accounts and roles (the back office builds on these)."""
