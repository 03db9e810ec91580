"""Judging translations: the oracle, its verdicts, and the tools built on it.

- ``oracle``: the invariants (grammar, coverage, conservation, rechunk, stream-nonstream,
  expect, errors) run over a cassette, each finding spec, data or policy;
- ``captured``: judging Anthropic output a gateway already sent, against its cassette;
- ``report``: the Markdown bug report (verdict, expectation, difference, invariants), with the
  cassette embedded by ``tape.markdown``;
- ``view``: a picture of a cassette, one self-contained HTML page: the reads on a time axis, their
  payloads, the events each caused, and the oracle's findings where they happened (``Finding.at``);
- ``shrink``: delta debugging a failing cassette down to a minimal one;
- ``diff``: two translations side by side, event by event;
- ``mutate``: the quirk variants of a cassette (quirks.md part L) and their answers;
- ``catalogue``: the quirk catalogue's entries, and which of them the cassettes cover.

The names below are imported from their modules on first use (``translator._lazy``): ``check`` loads
the oracle and the catalogue, not the view, shrink or mutate.

Imports ``replay`` and ``tape``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from translator._lazy import lazy_package

if TYPE_CHECKING:
    from .captured import captured, read_output
    from .catalogue import coverage as catalogue_coverage  # "coverage" alone is the oracle's invariant
    from .diff import event_diff
    from .mutate import VARIANTS, answers, mutate
    from .oracle import (
        Check,
        Finding,
        Location,
        Timeline,
        Unreadable,
        check_cassette,
        coverage,
        expect_from,
        expect_problems,
        first_event_difference,
        sdk_problems,
        timeline,
    )
    from .report import report
    from .shrink import DIFFERS, SHRINKABLE, fails, shrink
    from .view import view

__all__ = [
    "DIFFERS",
    "SHRINKABLE",
    "VARIANTS",
    "Check",
    "Finding",
    "Location",
    "Timeline",
    "Unreadable",
    "answers",
    "captured",
    "catalogue_coverage",
    "check_cassette",
    "coverage",
    "event_diff",
    "expect_from",
    "expect_problems",
    "fails",
    "first_event_difference",
    "mutate",
    "read_output",
    "report",
    "sdk_problems",
    "shrink",
    "timeline",
    "view",
]

lazy_package(__name__)
