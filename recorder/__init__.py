"""Cassettes, deterministic replay, the oracle and the replay transport."""

from .cassette import Cassette, CassetteError, load, save
from .oracle import check_cassette
from .replay import rechunk, replay
from .transport import ReplayTransport

__all__ = ["Cassette", "CassetteError", "ReplayTransport", "check_cassette", "load", "rechunk", "replay", "save"]
