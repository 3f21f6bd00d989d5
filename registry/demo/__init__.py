"""Deterministic, realistic bilingual demo data for development instances and benchmarks."""
