"""The agency's key material as the app sees it, and the ``/pki`` routes that publish it."""
