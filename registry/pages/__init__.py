"""The public pages: search, a body's and an accreditation's record, the QR landing answer."""
