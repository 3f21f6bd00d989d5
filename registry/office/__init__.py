"""The staff back office: login, cases, bodies, accounts and the audit log (views only)."""
