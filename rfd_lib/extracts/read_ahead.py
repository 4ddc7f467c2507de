"""Work out the next item of an iterator in a background thread while this one is used: :func:`read_ahead`.

Reading an extract is a chain of steps (parse a run of the file, then type and check it, then
classify it), and most of each step's time is spent in Arrow's kernels, which release the GIL.
Run one step ahead in a thread of its own, the steps overlap on a machine's cores; the order of
the items, and the point at which an error is raised, are those of the iterator read directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
_END = object()


def read_ahead(items: Iterable[Item]) -> Iterator[Item]:
    """Yield the items of ``items`` in order, each next one worked out in a thread while this one is used.

    At most one item is worked out ahead, so memory holds one more item than without. An
    exception raised making an item is raised here when that item is asked for. Closing the
    returned generator (or an error in the caller) waits for the item being made, then closes
    ``items``.
    """
    source = iter(items)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rfd-read-ahead") as pool:
            pending = pool.submit(next, source, _END)
            while True:
                item = pending.result()
                if item is _END:
                    return
                pending = pool.submit(next, source, _END)
                yield item
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
