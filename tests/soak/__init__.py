"""``make soak``: a long run under load against a real gunicorn (not part of ``make test``)."""
