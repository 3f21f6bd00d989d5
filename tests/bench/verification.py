"""Issue: batch verification rate, against poppler's pdfsig on the same files.

Targets (issue 12): <= 2x pdfsig's whole-process time per document on one job,
>= 80 documents per second with 2 jobs over 200 certificates of one agency, and
a peak RSS <= 120 MB while verifying a 20 MB file.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from sqlalchemy import select

from registry.certificates.issuance import IssuanceRefused, find_accreditation, issue
from registry.changes import DEVELOPMENT
from registry.pki.material import get_document_signer, get_pki
from registry.register.models import Accreditation
from registry.web import current
from verifier.cli import run as run_batch

from ..documents import demo_instance
from . import benchmark

FILES = 200


def _context(trust_pem: bytes, jwks: dict) -> tuple:
    from verifier.sources import TrustBundle

    return TrustBundle.from_pem([trust_pem], jwks), None


@benchmark("verification")
def run(args: argparse.Namespace) -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = demo_instance(folder / "instance", 80)
        database = current.database(app)
        signer = get_document_signer(app)
        with database.session() as session:
            numbers = list(session.scalars(select(Accreditation.number)))
        originals = []
        for number in numbers:
            try:
                with database.transaction() as session:
                    originals.append(
                        issue(
                            session,
                            find_accreditation(session, number),
                            signer,
                            current.settings(app),
                            actor=DEVELOPMENT,
                        ).pdf
                    )
            except IssuanceRefused:
                continue
            if len(originals) >= 40:
                break
        files = []
        for i in range(FILES):
            path = folder / f"c{i:03}.pdf"
            path.write_bytes(originals[i % len(originals)])
            files.append(path)
        pki = get_pki(app)
        from cryptography.hazmat.primitives import serialization

        pem = pki.root.public_bytes(serialization.Encoding.PEM)
        make = partial(_context, pem, pki.qr_jwks())
        nss = folder / "nss"
        nss.mkdir()
        subprocess.run(
            ["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"],
            check=True,
            capture_output=True,
        )
        (folder / "root.pem").write_bytes(pem)
        subprocess.run(
            [
                "certutil",
                "-A",
                "-d",
                f"sql:{nss}",
                "-n",
                "root",
                "-t",
                "CT,C,C",
                "-i",
                str(folder / "root.pem"),
            ],
            check=True,
            capture_output=True,
        )

        started = time.perf_counter()
        for path in files[:50]:
            subprocess.run(
                ["pdfsig", "-nssdir", f"sql:{nss}", "-no-ocsp", str(path)], capture_output=True
            )
        pdfsig = (time.perf_counter() - started) / 50

        devnull = open(os.devnull, "w")  # noqa: SIM115
        stdout, sys.stdout = sys.stdout, devnull
        try:
            started = time.perf_counter()
            run_batch(files, make, as_json=True, jobs=1)
            one = (time.perf_counter() - started) / FILES
            started = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            run_batch(files, make, as_json=True, jobs=2)
            two = (time.perf_counter() - started) / FILES
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            worker_cpu = (
                after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            ) / FILES
        finally:
            sys.stdout = stdout
            devnull.close()
        print(f"pdfsig (whole process):  {pdfsig * 1000:6.1f} ms per file")
        print(
            f"verify, 1 job:           {one * 1000:6.1f} ms per file  ({1 / one:5.1f}/s)  "
            f"{one / pdfsig:.2f}x pdfsig  target <= 2x: {'met' if one <= 2 * pdfsig else 'NOT met'}"
        )
        print(
            f"verify, 2 jobs:          {two * 1000:6.1f} ms per file  ({1 / two:5.1f}/s)  "
            f"target >= 80/s: {'met' if 1 / two >= 80 else 'NOT met'}  "
            f"(worker CPU {worker_cpu * 1000:.1f} ms per file)"
        )

        # A real signed 20 MB document: a page and a 19 MB attachment (random, so
        # incompressible), signed as certificates are.
        from fpdf import FPDF

        from keys.signing import sign_pdf

        doc = FPDF()
        doc.add_page()
        doc.set_font("helvetica", size=16)
        doc.cell(text="A certificate with a large annex")
        doc.embed_file(bytes=os.urandom(19 * 1024 * 1024), basename="annex.bin", compress=False)
        big = folder / "big.pdf"
        big.write_bytes(sign_pdf(bytes(doc.output()), signer))
        measure = (
            "import sys; from pathlib import Path; "
            "from cryptography import x509; "
            "from verifier.policy import verify; from verifier.sources import TrustBundle; "
            f"from verifier import speedups; speedups.enable({not args.no_speedups}); "
            f"root = x509.load_pem_x509_certificate({pem!r}); "
            "r = verify(Path(sys.argv[1]).read_bytes(), TrustBundle((root,))); "
            # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent.
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
            "print(','.join(c.name for c in r.failed) or 'none', hwm.split()[1])"
        )
        rss = {}
        for label, path in (("small", files[0]), ("big", big)):
            out = subprocess.run(
                [sys.executable, "-c", measure, str(path)], capture_output=True, text=True
            ).stdout.split()
            rss[label] = (out[0], int(out[1]) / 1024)
        print(
            f"peak RSS verifying a {big.stat().st_size / 2**20:.0f} MB signed file: "
            f"{rss['big'][1]:.0f} MB, target <= 120 MB: "
            f"{'met' if rss['big'][1] <= 120 else 'NOT met'} "
            f"(failed checks: {rss['big'][0]}); a certificate of "
            f"{files[0].stat().st_size // 1024} KB: {rss['small'][1]:.0f} MB"
        )
