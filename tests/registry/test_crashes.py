"""``kill -9`` in the middle of issuance, of decisions and of log appends, 20 times each.

A child process issues certificates (or records decisions) in a loop; the test
kills it with SIGKILL at a random moment, again and again. Afterwards the
register and the log agree (``accredit log verify`` checks every certificate
and decision against its leaf, and the tree against its checkpoints), every
certificate has its stored PDF and every stored PDF its certificate, and the
stored PDFs verify. The log append test also holds the log's own rows together:
its entries and leaf hashes are one unbroken run from index 0, and each
leaf-bearing audit entry points at the leaf of its own kind.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.accounts.services import add_staff
from registry.certificates.models import Blob, Certificate
from registry.changes import AuditEntry
from registry.log import leaves
from registry.log.models import LogEntry, LogHash
from registry.pki.material import load_pki
from registry.staff.models import StaffRole, StaffUser
from registry.web import current
from verifier.policy import verify
from verifier.sources import TrustBundle

from ..documents import demo_instance, valid_numbers
from .office.conftest import PASSWORD

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


APPENDING = """
import os, sys
from datetime import UTC, datetime
from registry.accounts.services import find_staff, grant_role, revoke_role
from registry.acts.decisions import record
from registry.app import create_app
from registry.certificates.issuance import find_accreditation
from registry.pki.material import publish_log
from registry.register.standings import standings
from registry.register.status import AccreditationStatus, EventKind
from registry.staff.models import StaffRole
from registry.web import current


def append_forever(folder, number):
    app = create_app({"INSTANCE": folder})
    database = current.database(app)
    print("ready", os.getpid(), flush=True)
    while True:
        # One transaction, many leaves: a decision, then the decision-maker role
        # granted and revoked again and again (each grant and revoke is a public leaf).
        with database.transaction() as session:
            registrar = find_staff(session, "registrar@agency.test")
            approver = find_staff(session, "approver@agency.test")
            officer = find_staff(session, "officer@agency.test")
            now = datetime.now(UTC)
            acc = find_accreditation(session, number)
            state = standings(session, now, [acc.id])[acc.id].status
            kind = (EventKind.REINSTATED if state is AccreditationStatus.SUSPENDED
                    else EventKind.SUSPENDED)
            record(session, acc, kind, now.date(), proposed_by=officer, approved_by=approver,
                   reason_en="append test")
            for _ in range(15):
                grant_role(session, officer, StaffRole.DECISION_MAKER, by=registrar, now=now)
                revoke_role(session, officer, StaffRole.DECISION_MAKER, by=registrar, now=now)
        publish_log(current.settings(app), database)


# A warm parent: every child is forked with the imports done, so that 20 kills
# cost 20 short runs, not 20 interpreter starts.
print("warm", flush=True)
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            append_forever(sys.argv[1], sys.argv[2])
        finally:
            os._exit(1)
    os.waitpid(pid, 0)
    print("dead", flush=True)
"""


def kill_forked_repeatedly(program: str, kills: int, longest: float, *args: str) -> None:
    """``kill -9`` children that a warm parent (``program``) forks, one after another."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCREDIT_")}
    env["PYTHONPATH"] = str(ROOT)
    rng = random.Random(20261216)
    parent = subprocess.Popen(
        [sys.executable, "-c", program, *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert parent.stdin is not None and parent.stdout is not None
    try:
        assert parent.stdout.readline().strip() == "warm"
        for _ in range(kills):
            parent.stdin.write("go\n")
            parent.stdin.flush()
            ready, pid = parent.stdout.readline().split()
            assert ready == "ready"
            time.sleep(rng.uniform(0.05, longest))
            os.kill(int(pid), signal.SIGKILL)
            assert parent.stdout.readline().strip() == "dead"
    finally:
        parent.kill()
        parent.wait(10)


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
    # A child's first issuance takes 2-3 s (fonts and the tagged layout warm up), later
    # ones a fraction of that: kills land before, inside and after their commits.
    kill_repeatedly(program, folder, KILLS, 5.0 if program is ISSUING else 0.8)
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


def test_kill_9_during_log_appends_leaves_the_log_whole(tmp_path):
    """Kills land inside transactions that append 31 leaves each, and inside the signing.

    The leaves are real changes through the one write path: a decision, and the
    decision-maker role granted and revoked (a public fact) fifteen times.
    """
    folder = tmp_path / "instance"
    app = demo_instance(folder, 3)
    with current.database(app).transaction() as session:
        now = datetime.now(UTC)
        for email, role in (
            ("registrar@agency.test", StaffRole.REGISTRAR),
            ("approver@agency.test", StaffRole.DECISION_MAKER),
            ("officer@agency.test", StaffRole.OFFICER),
        ):
            add_staff(session, email, email, {role}, PASSWORD, issuer="TISI", by=None, now=now)
    number = valid_numbers(app)[0]
    with current.database(app).session() as session:
        before = session.scalar(select(func.count()).select_from(LogEntry))
    current.database(app).engine.dispose()
    kill_forked_repeatedly(APPENDING, KILLS, 3.0, str(folder), number)
    signed = accredit(folder, "log", "sign")
    assert signed.returncode == 0, signed.stderr
    audit = accredit(folder, "log", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    with current.database(app).session() as session:
        entries = session.scalars(select(LogEntry.index).order_by(LogEntry.index)).all()
        print(f"{KILLS} kills; {len(entries) - before} leaves appended and kept")
        assert len(entries) > before + 31, "no child appended anything before it was killed"
        assert entries == list(range(len(entries)))
        leaf_hashes = session.scalars(
            select(LogHash.index).where(LogHash.level == 0).order_by(LogHash.index)
        ).all()
        assert leaf_hashes == entries
        kinds = dict(session.execute(select(LogEntry.index, LogEntry.kind)).all())
        pointed = [
            (entry.action, entry.detail["log_index"])
            for entry in session.scalars(select(AuditEntry))
            if "log_index" in (entry.detail or {})
        ]
        expected = {"role.grant": "role.granted", "role.revoke": "role.revoked"}
        # Each leaf the children appended has its one audit entry (the demo's have none).
        assert sorted(i for _, i in pointed if i >= before) == entries[before:]
        for action, index in pointed:
            assert kinds[index] == expected.get(action, kinds[index]), (action, index)
        officer = session.scalars(
            select(StaffUser).where(StaffUser.email == "officer@agency.test")
        ).one()
        grants = [g for g in officer.grants if g.role is StaffRole.DECISION_MAKER]
        assert grants, "no transaction of the child committed"
        # Each grant was revoked in its own transaction, and both are in the log, once.
        assert all(g.revoked_at is not None for g in grants)
        facts = [leaves.decode(d) for d in session.scalars(select(LogEntry.data))]
        for grant in grants:
            kinds_of = sorted(f["type"] for f in facts if f.get("grant") == grant.id)
            assert kinds_of == ["role.granted", "role.revoked"], grant.id
