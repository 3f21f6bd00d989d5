"""One base error; each subclass explains itself to a person."""


class PkiError(Exception):
    """Base class: the PKI cannot do what was asked. The message says why."""


class PkiMissing(PkiError):
    pass


class PkiExists(PkiError):
    pass


class BadPassphrase(PkiError):
    pass


class CorruptKeyFile(PkiError):
    pass


class CertificateNotUsable(PkiError):
    """Expired, not yet valid, or revoked at the moment of use."""


class UnknownCertificate(PkiError):
    pass


class TimestampUnavailable(PkiError):
    pass


class SigningFailed(PkiError):
    pass
