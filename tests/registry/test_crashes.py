"""``kill -9`` in the middle of issuance and of decisions, 20 times each: nothing half-written.

A child process issues certificates (or records decisions) in a loop; the test
kills it with SIGKILL at a random moment, again and again. Afterwards the
register and the log agree (``accredit log verify`` checks every certificate
and decision against its leaf, and the tree against its checkpoints), every
certificate has its stored PDF and every stored PDF its certificate, and the
stored PDFs verify.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.certificates.models import Blob, Certificate
from registry.pki.material import load_pki
from registry.web import current
from verifier.policy import verify
from verifier.sources import TrustBundle

from ..documents import demo_instance

KILLS = 20
ROOT = Path(__file__).resolve().parents[2]

ISSUING = """
import sys
from registry.app import create_app
from registry.certificates.issuance import IssuanceRefused, find_accreditation, issue
from registry.changes import DEVELOPMENT
from registry.pki.material import get_document_signer, publish_log
from registry.web import current
from tests.documents import valid_numbers

app = create_app({"INSTANCE": sys.argv[1]})
numbers = valid_numbers(app)
signer = get_document_signer(app)
print("ready", flush=True)
n = 0
while True:
    n += 1
    try:
        with current.database(app).transaction() as session:
            acc = find_accreditation(session, numbers[n % len(numbers)])
            issue(session, acc, signer, current.settings(app), actor=DEVELOPMENT)
    except IssuanceRefused:
        pass
    publish_log(current.settings(app), current.database(app))
"""

DECIDING = """
import os, sys
from datetime import UTC, datetime
from registry.acts.decisions import record
from registry.app import create_app
from registry.certificates.issuance import find_accreditation
from registry.pki.material import publish_log
from registry.register.status import EventKind
from registry.staff.models import RoleGrant, StaffRole, StaffUser
from registry.web import current
from tests.documents import valid_numbers

app = create_app({"INSTANCE": sys.argv[1]})
numbers = valid_numbers(app)[:5]
database = current.database(app)
with database.transaction() as session:
    tag = f"{os.getpid()}"
    officer = StaffUser(email=f"officer-{tag}@example.test", name="Officer")
    approver = StaffUser(email=f"approver-{tag}@example.test", name="Approver")
    session.add_all([officer, approver])
    session.flush()
    session.add_all([
        RoleGrant(staff_id=officer.id, role=StaffRole.OFFICER),
        RoleGrant(staff_id=approver.id, role=StaffRole.DECISION_MAKER),
    ])
    ids = officer.id, approver.id
print("ready", flush=True)
n = 0
while True:
    n += 1
    kind = EventKind.SUSPENDED if n % 2 else EventKind.REINSTATED
    with database.transaction() as session:
        officer, approver = session.get(StaffUser, ids[0]), session.get(StaffUser, ids[1])
        acc = find_accreditation(session, numbers[(n // 2) % len(numbers)])
        record(session, acc, kind, datetime.now(UTC).date(), proposed_by=officer,
               approved_by=approver, reason_en=f"crash test {n}")
    publish_log(current.settings(app), database)
"""


def kill_repeatedly(program: str, folder: Path, kills: int, longest: float) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env["PYTHONPATH"] = str(ROOT)
    rng = random.Random(20261201)
    for _ in range(kills):
        child = subprocess.Popen(
            [sys.executable, "-c", program, str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, longest))
        child.send_signal(signal.SIGKILL)
        child.wait(10)


def accredit(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env["ACCREDIT_INSTANCE"] = str(folder)
    script = Path(sys.executable).parent / "accredit"
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("program", [ISSUING, DECIDING], ids=["issuance", "decisions"])
def test_kill_9_leaves_the_register_and_the_log_consistent(tmp_path, program):
    folder = tmp_path / "instance"
    app = demo_instance(folder, 12)
    current.database(app).engine.dispose()
    # An issuance takes about a second: kills land before, inside and after its commit.
    kill_repeatedly(program, folder, KILLS, 2.5 if program is ISSUING else 0.8)
    signed = accredit(folder, "log", "sign")  # leaves committed just before a kill
    assert signed.returncode == 0, signed.stderr
    audit = accredit(folder, "log", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    with current.database(app).session() as session:
        certificates = session.scalars(select(Certificate)).all()
        blobs = session.scalar(select(func.count()).select_from(Blob))
        orphans = session.scalar(
            select(func.count())
            .select_from(Blob)
            .where(~select(Certificate.id).where(Certificate.sha256 == Blob.sha256).exists())
            .where(~select(Certificate.id).where(Certificate.served_sha256 == Blob.sha256).exists())
        )
        assert orphans == 0, f"{orphans} of {blobs} stored PDFs belong to no certificate"
        missing = [c.number for c in certificates if session.get(Blob, c.sha256) is None]
        assert missing == []
        assert all(c.log_index is not None for c in certificates)
        if program is ISSUING:
            assert certificates, "the child issued nothing before it was killed"
            loaded = load_pki(current.settings(app))
            trust = TrustBundle((loaded.root,), loaded.qr_jwks())
            for cert in certificates[-5:]:
                report = verify(session.get(Blob, cert.sha256).data, trust, None)
                assert report.document.value == "authentic", report.summary()
