"""The clock: pinned for the process, or for one block of one thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from planflow import clock


def test_frozen_block_pins_only_its_own_thread() -> None:
    clock.set_now(datetime(2026, 1, 1, tzinfo=UTC))
    seen: list[datetime] = []
    inside, done = threading.Event(), threading.Event()

    def other_thread() -> None:
        inside.wait(5)
        seen.append(clock.now())
        done.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with clock.frozen_at(datetime(2030, 6, 1, 12)):
        assert clock.now() == datetime(2030, 6, 1, 12, tzinfo=UTC)
        inside.set()
        done.wait(5)
    thread.join()
    assert seen == [datetime(2026, 1, 1, tzinfo=UTC)]
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)


def test_nested_frozen_blocks_restore_in_order() -> None:
    clock.set_now(datetime(2026, 1, 1, tzinfo=UTC))
    with clock.frozen_at(datetime(2030, 1, 1, tzinfo=UTC)):
        with clock.frozen_at(datetime(2031, 1, 1, tzinfo=UTC)):
            assert clock.now().year == 2031
        assert clock.now().year == 2030
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
