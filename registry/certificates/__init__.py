"""Certificates: issuing revisions, the PDF itself, LTA refresh, answers, the status list."""
