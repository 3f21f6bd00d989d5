"""Certificate verification: no Flask, no database."""
