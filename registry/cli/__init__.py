"""The ``accredit`` command: one module per command group, joined in ``main``."""
