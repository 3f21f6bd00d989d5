"""Open data: the whole register as CSV and JSON, and the Atom feed of status decisions."""
