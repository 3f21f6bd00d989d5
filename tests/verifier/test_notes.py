"""C2SP signed notes, checkpoints and cosignatures: the parsing rules, held one by one."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier import notes
from verifier.notes import Checkpoint, NoteError, Verifier

BODY = Checkpoint("registry.example.go.th/log", 42, bytes(range(32))).body


@pytest.fixture
def log():
    key = Ed25519PrivateKey.generate()
    return key, Verifier("registry.example.go.th/log", key.public_key())


def test_a_signed_checkpoint_round_trips(log):
    key, verifier = log
    note = notes.sign_note(BODY, verifier.name, key)
    parsed, signers = notes.verify_note(note, [verifier])
    assert signers == [verifier]
    assert Checkpoint.parse(parsed.text) == Checkpoint(
        "registry.example.go.th/log", 42, bytes(range(32))
    )
    assert note.startswith(BODY + "\n\u2014 registry.example.go.th/log ")


def test_the_key_id_is_the_spec_s(log):
    key, verifier = log
    raw = notes.raw(key.public_key())
    assert verifier.id == hashlib.sha256(verifier.name.encode() + b"\n\x01" + raw).digest()[:4]
    vkey = verifier.vkey()
    assert vkey.startswith(f"{verifier.name}+{verifier.id.hex()}+")
    assert Verifier.parse(vkey) == verifier
    with pytest.raises(NoteError, match="does not match its key ID"):
        Verifier.parse(vkey.replace(f"+{verifier.id.hex()}+", "+00000000+"))


def test_the_text_ends_at_the_last_blank_line(log):
    key, verifier = log
    # A line that looks like a signature inside the text stays text: the text
    # is everything before the *last* blank line.
    text = "registry.example.go.th/log\n1\n" + base64.b64encode(bytes(32)).decode() + "\n"
    note = notes.sign_note(text, verifier.name, key)
    parsed = notes.parse_note(note)
    assert parsed.text == text and len(parsed.signatures) == 1


def test_unknown_signatures_are_ignored_and_a_bad_known_one_rejects(log):
    key, verifier = log
    note = notes.sign_note(BODY, verifier.name, key)
    stranger = Ed25519PrivateKey.generate()
    extra = notes.sign_note(BODY, "stranger.example/log", stranger).split("\n\n", 1)[1]
    both = note + extra
    _, signers = notes.verify_note(both, [verifier])
    assert signers == [verifier]
    with pytest.raises(NoteError, match="no known key"):
        notes.verify_note(note, [Verifier("other.example/log", stranger.public_key())])
    # The known key's signature over other text fails: the whole note is refused.
    forged = note.replace("\n42\n", "\n43\n")
    with pytest.raises(NoteError, match="does not verify"):
        notes.verify_note(forged, [verifier])


@pytest.mark.parametrize(
    "bad",
    [
        "no blank line\n— x AAAA\n",
        BODY + "\n",
        BODY + "\n— name\n",
        BODY + "\n- name AAAAAAAA\n",
        BODY + "\n— name not-base64!\n",
        BODY + "\n— name AAAA",
    ],
)
def test_malformed_notes_are_refused(bad):
    with pytest.raises(NoteError):
        notes.parse_note(bad)


@pytest.mark.parametrize(
    "text",
    [
        "origin\n012\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n1\nAAAA\n",
        "origin\n1\n",
    ],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_a_cosignature_signs_the_time_and_the_body(log):
    key, verifier = log
    note = notes.sign_note(BODY, verifier.name, key)
    witness_key = Ed25519PrivateKey.generate()
    witness = Verifier("partner.example/w1", witness_key.public_key(), notes.COSIGNATURE_ALG)
    line = notes.cosign(BODY, witness.name, witness_key).line
    _, signers = notes.verify_note(note + line, [verifier, witness])
    assert signers == [verifier, witness]
    assert witness.id != Verifier(witness.name, witness_key.public_key()).id, "0x04, not 0x01"
    tampered = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
    with pytest.raises(NoteError, match="does not verify"):
        notes.verify_note(note + tampered, [verifier, witness])
