"""berth.heap: the objects alive after start-up are exempt from later collections."""

from __future__ import annotations

import gc

from berth.heap import freeze_startup_heap


def test_the_startup_heap_is_frozen_and_later_objects_are_still_collected() -> None:
    try:
        frozen = freeze_startup_heap()
        assert frozen == gc.get_freeze_count() > 0
        later: list[object] = []
        later.append(later)  # a cycle made after the freeze: still garbage to the collector
        del later
        assert gc.collect() >= 1
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
