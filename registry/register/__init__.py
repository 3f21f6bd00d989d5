"""The register's facts: bodies, sites, accreditations, scope, status events.

And how a status derives from them (``status``, ``standings``).
"""
