"""The agency PKI: no Flask, no database."""
