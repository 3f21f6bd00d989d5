"""One base error for input the verifier cannot process; each explains itself."""


class VerifierError(Exception):
    """Base class. The message is a sentence meant for a person."""


class QrError(VerifierError):
    """A QR payload that cannot be accepted; ``code`` is stable for machines."""

    code = "qr_invalid"


class QrWrongPrefix(QrError):
    code = "qr_wrong_prefix"


class QrTruncated(QrError):
    code = "qr_truncated"


class QrUnknownKey(QrError):
    code = "qr_unknown_key"


class QrBadSignature(QrError):
    code = "qr_bad_signature"
