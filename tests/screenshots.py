"""``make screenshots``: PNGs of a demo certificate, for a person to look at.

Writes ``screenshots/certificate-page1.png`` and ``certificate-annex1.png``
(150 dpi) for a demo testing laboratory and a calibration laboratory, from a
throwaway instance.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select

from registry.certificates.issuance import IssuanceRefused, find_accreditation, issue
from registry.changes import DEVELOPMENT
from registry.pki.material import get_document_signer
from registry.register.models import Accreditation, ScopeItem
from registry.register.programmes import Programme
from registry.web import current

from .documents import demo_instance


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = demo_instance(Path(tmp), 200)
        database = current.database(app)
        signer = get_document_signer(app)
        for programme in (Programme.TESTING, Programme.CALIBRATION):
            with database.session() as session:
                candidates = session.scalars(
                    select(Accreditation.number)
                    .join(ScopeItem)
                    .where(Accreditation.programme == programme)
                    .group_by(Accreditation.id)
                    .order_by(Accreditation.id)
                ).all()
            for number in candidates:
                try:
                    with database.transaction() as session:
                        issued = issue(
                            session,
                            find_accreditation(session, number),
                            signer,
                            current.settings(app),
                            actor=DEVELOPMENT,
                        )
                    break
                except IssuanceRefused:
                    continue
            pdf = out / f"{programme.value}.pdf"
            pdf.write_bytes(issued.pdf)
            for page, name in ((1, "page1"), (2, "annex1")):
                target = out / f"{programme.value}-{name}"
                subprocess.run(
                    [
                        "pdftoppm",
                        "-r",
                        "150",
                        "-f",
                        str(page),
                        "-l",
                        str(page),
                        "-png",
                        "-singlefile",
                        str(pdf),
                        str(target),
                    ],
                    check=True,
                )
                print(f"{target}.png  ({issued.certificate.number})")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots"))
