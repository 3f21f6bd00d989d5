"""``verify``: the acceptance policy of DESIGN section 4, rule by rule.

The file is read once into frozen ``Evidence`` (``verifier.evidence``), and
each named rule of ``verifier.rules`` judges it. Every rule runs and reports,
even after another failed, so that a report shows all that is wrong; only a
failed ``parse`` stops the rest. An exception inside a rule is that check
failing with its message, never a crash and never a pass. Validation never
fetches anything: revocation data comes from the file (its DSS) and from the
caller.
"""

from __future__ import annotations

import _imp
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

from . import rules
from .evidence import Evidence, Limits, consult, examine, read
from .report import CHECK_NAMES, Check, Outcome, Report
from .sources import StatusSource, TrustBundle

__all__ = ["Limits", "cut_off", "verify"]
log = logging.getLogger(__name__)


class BudgetExceeded(BaseException):
    """The document's wall-clock budget ran out in the middle of a check.

    A BaseException, so that no ``except Exception`` inside a check or a
    library can swallow it.
    """


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt whatever is running after ``seconds`` (main thread only, via SIGALRM).

    Elsewhere (a threaded server) the budget is still checked between checks.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        # Not while a module is being imported (an interrupted import leaves the
        # interpreter's state half-built); the interval timer fires again soon,
        # which also covers an exception swallowed by a __del__ or gc callback.
        if not _imp.lock_held():
            raise BudgetExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        # None: the handler was not installed from Python (libFuzzer's, say).
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


class _Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def spent(self) -> bool:
        return time.monotonic() > self.deadline


def _run(name: str, budget: _Budget, func: Callable[[], Check]) -> Check:
    if budget.spent():
        return Check(
            name, Outcome.FAILED, "the time budget for this document ran out", "time_budget"
        )
    try:
        return func()
    except Exception:  # a check that breaks fails; it never passes
        log.debug("check %s raised", name, exc_info=True)
        return Check(
            name,
            Outcome.FAILED,
            "could not be checked: the file breaks the PDF rules here",
            "error",
        )


def verify(
    pdf: bytes,
    trust: TrustBundle,
    status: StatusSource | None = None,
    *,
    now: datetime | None = None,
    limits: Limits | None = None,
    filename: str | None = None,
) -> Report:
    """Is this PDF genuine, unaltered and current? Returns a typed ``Report``.

    Never raises for any input: a failure outside the individual checks (a bug)
    still yields a report that says the document could not be verified.
    """
    limits = limits or Limits()
    checks: list[Check] = []
    try:
        with _deadline(limits.seconds):
            return _verify(
                pdf, trust, status, now=now, limits=limits, filename=filename, checks=checks
            )
    except BudgetExceeded:
        return cut_off(filename, checks)
    except Exception:
        log.exception("verification failed outside a check")
        return Report(
            (Check("parse", Outcome.FAILED, "could not be verified", "error"),),
            filename=filename,
        )


def cut_off(filename: str | None, checks: Sequence[Check] = ()) -> Report:
    """The report of a file whose time ran out: what ran, then ``time_budget`` for the rest."""
    done = {c.name for c in checks}
    late = [
        Check(name, Outcome.FAILED, "the time budget for this document ran out", "time_budget")
        for name in CHECK_NAMES
        if name not in done
    ]
    return Report((*checks, *late), filename=filename)


def _verify(
    pdf: bytes,
    trust: TrustBundle,
    status: StatusSource | None,
    *,
    now: datetime | None,
    limits: Limits,
    filename: str | None,
    checks: list[Check],
) -> Report:
    budget = _Budget(limits.seconds)
    now = now or datetime.now(UTC)
    parsed, reader = read(pdf, limits)
    checks.append(parsed)
    if reader is None:
        return Report(tuple(checks), filename=filename)
    evidence = examine(pdf, reader, trust, now)
    checks.extend(_apply(rules.DOCUMENT_RULES, evidence, budget))
    qr = _run("qr_payload", budget, partial(rules.qr_payload, evidence))
    evidence = consult(evidence, status, rules.qr_claims(evidence, qr))
    binding, *rest = _apply(rules.REGISTER_RULES, evidence, budget)
    # Reported in CHECK_NAMES order: the binding before the QR payload it may replace.
    checks.extend((binding, qr, *rest))
    return _report(evidence, tuple(checks), filename)


def _apply(applied: Sequence[rules.Rule], evidence: Evidence, budget: _Budget) -> list[Check]:
    return [_run(rule.__name__, budget, partial(rule, evidence)) for rule in applied]


def _report(evidence: Evidence, checks: tuple[Check, ...], filename: str | None) -> Report:
    answer, fields, signer = evidence.answer, evidence.fields, evidence.signer_cert
    return Report(
        checks,
        certificate_number=evidence.number,
        revision=int(fields["revision"]) if fields.get("revision", "").isdigit() else None,
        signer=signer.subject.rfc4514_string() if signer else None,
        signed_at=evidence.signed_at,
        status_source=answer.source if answer else None,
        status_as_of=answer.as_of if answer else None,
        reported_status=answer.status if answer else None,
        filename=filename,
        signed_length=evidence.signed_length,
    )
