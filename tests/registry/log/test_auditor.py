"""The auditor's command and the witness, as real processes over loopback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.serving import make_server

from registry.cli.log import WitnessState, witness_app
from verifier import notes
from verifier.notes import Verifier

from ...e2e.harness import free_port


def serve(app) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture
def instance(accredit, tmp_path):
    made = accredit("init", "--demo", "15", "--issue", "2")
    assert made.returncode == 0, made.stderr
    assert "checkpoint signed" in made.stdout
    return tmp_path / "instance" / "accredit.sqlite3"


def test_log_verify_holds_then_names_the_first_edited_row(accredit, instance, tmp_path):
    saved = tmp_path / "checkpoint.txt"
    first = accredit("log", "verify", "--checkpoint", str(saved))
    assert first.returncode == 0, first.stderr
    assert "the log holds" in first.stdout and saved.exists()
    with sqlite3.connect(instance) as db:
        event, index = db.execute(
            "SELECT id, log_index FROM status_event WHERE log_index IS NOT NULL "
            "ORDER BY log_index LIMIT 1 OFFSET 3"
        ).fetchone()
        db.execute("UPDATE status_event SET effective_date = '2001-01-01' WHERE id = ?", (event,))
    back_dated = accredit("log", "verify", "--checkpoint", str(saved))
    assert back_dated.returncode == 1
    assert (
        f"leaf {index}: its event {event} no longer says what it says (effective)"
        in back_dated.stderr
    )
    assert "Traceback" not in back_dated.stderr


def test_log_verify_names_a_deleted_row_and_an_edited_leaf(accredit, instance):
    with sqlite3.connect(instance) as db:
        db.execute("PRAGMA foreign_keys = OFF")
        number, index = db.execute("SELECT number, log_index FROM certificate LIMIT 1").fetchone()
        db.execute("DELETE FROM certificate WHERE number = ?", (number,))
    gone = accredit("log", "verify")
    assert (
        gone.returncode == 1
        and f"leaf {index}: its certificate is no longer in the register" in gone.stderr
    )
    with sqlite3.connect(instance) as db:
        db.execute('UPDATE log_entry SET data = CAST(\'{"v":1}\' AS BLOB) WHERE "index" = 2')
    edited = accredit("log", "verify")
    assert edited.returncode == 1
    assert "entry 2 does not hash to its stored leaf hash (first bad index: 2)" in edited.stderr


def test_a_witness_cosigns_conflicts_and_is_required(accredit, instance, tmp_path):
    witness_key = Ed25519PrivateKey.generate()
    witness = Verifier("partner.example/w1", witness_key.public_key(), notes.COSIGNATURE_ALG)
    port = free_port()
    script = Path(sys.executable).parent / "accredit"
    registry = subprocess.Popen(
        [str(script), "run", "--port", str(port), "--workers", "1"],
        env={**os.environ, "ACCREDIT_INSTANCE": str(tmp_path / "instance")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                log_vkey = (
                    urllib.request.urlopen(f"{base}/pki/log.vkey", timeout=2)
                    .read()
                    .decode()
                    .strip()
                )
                break
            except OSError:
                assert time.monotonic() < deadline, "accredit run did not start"
                time.sleep(0.2)
        state = WitnessState(tmp_path / "witness.json")
        url, server = serve(
            witness_app(witness.name, witness_key, [Verifier.parse(log_vkey)], state)
        )
        env = {"ACCREDIT_LOG_WITNESSES": f"{witness.vkey()}|{url}"}
        issued = accredit("issue", accredit("list", "--status", "valid").stdout.split()[0], env=env)
        assert issued.returncode == 0, issued.stderr
        checkpoint = urllib.request.urlopen(f"{base}/log/checkpoint", timeout=5).read().decode()
        _, signers = notes.verify_note(checkpoint, [Verifier.parse(log_vkey), witness])
        assert witness in signers, "the register serves the witness's cosignature"
        required = accredit(
            "log",
            "verify",
            "--registry",
            base,
            "--log-key",
            log_vkey,
            "--witness",
            witness.vkey(),
            "--require",
            "1",
        )
        assert required.returncode == 0, required.stderr
        assert "cosigned by 1 witnesses" in required.stdout
        other = Verifier(
            "partner.example/w2", Ed25519PrivateKey.generate().public_key(), notes.COSIGNATURE_ALG
        )
        short = accredit(
            "log",
            "verify",
            "--registry",
            base,
            "--log-key",
            log_vkey,
            "--witness",
            witness.vkey(),
            "--witness",
            other.vkey(),
            "--require",
            "2",
        )
        assert short.returncode == 1 and "1 of the 2 witness cosignatures required" in short.stderr

        # The witness holds its ground: an old size it did not cosign gets 409 and its size.
        body = ("old 1\n\n" + checkpoint).encode()
        request = urllib.request.Request(f"{url}/add-checkpoint", data=body, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 409
        assert refused.value.headers["Content-Type"] == "text/x.tlog.size"
        known = refused.value.read().decode()
        assert known == f"{notes.Checkpoint.parse(notes.parse_note(checkpoint).text).size}\n"
        server.shutdown()
    finally:
        registry.terminate()
        registry.wait(timeout=10)
