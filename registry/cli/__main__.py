"""``python -m registry.cli``: the ``accredit`` command without its console script."""

from .main import main

main()
