"""The reporting chain's tests start alike: the seed plan, the clock at START, a cycle open."""

from __future__ import annotations

import pytest

from planflow import clock
from planflow.db import Database

from .chain import START, Chain


@pytest.fixture
def chain(seeded: Database) -> Chain:
    """A driver of the chain with the 2026-Q4 cycle started and opened, at START."""
    clock.set_now(START)
    chain = Chain(seeded)
    chain.start_cycle()
    return chain
