"""A PDF that is slow to read: many small objects packed into object streams (by qpdf)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def slow_pdf(folder: Path, objects: int = 150_000) -> bytes:
    """About 1.4 MB that keeps the verifier's parser busy for its whole budget."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []

    def add(body: bytes) -> None:
        offsets.append(len(out))
        out.extend(b"%d 0 obj\n" % len(offsets) + body + b"\nendobj\n")

    add(b"<< /Type /Catalog /Pages 2 0 R /Extra 4 0 R >>")
    add(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    add(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
    add(b"[" + b" ".join(b"%d 0 R" % i for i in range(5, objects + 5)) + b"]")
    for i in range(objects):
        add(b"<< /N %d >>" % i)
    xref = len(out)
    out.extend(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    for offset in offsets:
        out.extend(b"%010d 00000 n \n" % offset)
    out.extend(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(offsets) + 1))
    out.extend(b"startxref\n%d\n%%%%EOF\n" % xref)
    plain, packed = folder / "plain.pdf", folder / "slow.pdf"
    plain.write_bytes(bytes(out))
    subprocess.run(["qpdf", "--object-streams=generate", str(plain), str(packed)], check=True)
    return packed.read_bytes()
