"""The register as the verifier's live status source, and the ``/verify`` pages."""
