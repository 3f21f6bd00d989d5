"""accredit: the public register of accredited bodies and their certificates.

The package holds one folder per domain; README.md ("Layout") says what lives
where and which way imports point. This file imports nothing, so that using one
domain (the CLI's offline verifier, a migration) never loads the web app.
"""
