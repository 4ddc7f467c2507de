"""Small text helpers over Arrow arrays that pyarrow's own kernels do not get right."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Bytes tested at a time: a window's temporaries stay in the processor's cache, which makes the
# scan about twice as fast as testing a whole column's buffer at once (measured on 700 MB).
BYTE_WINDOW = 1 << 16


def any_byte(values: pa.Array | pa.ChunkedArray, test: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Return whether ``test`` (on a uint8 array) is True for a byte of any value of text ``values``.

    False means no value has such a byte; True may be wrong (a slice's buffer holds more than its
    values). The bytes of every value are scanned window by window with numpy, some forty times
    faster than a string kernel, so only a column where this finds one need be looked at value
    by value.
    """
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        data = (
            chunk.buffers()[2]
            if pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)
            else None
        )
        if data is None:
            continue
        data = np.frombuffer(data, dtype=np.uint8)
        for start in range(0, len(data), BYTE_WINDOW):
            if np.any(test(data[start : start + BYTE_WINDOW])):
                return True
    return False


def join_present(pieces: list[pa.Array], separator: str) -> pa.Array:
    """Return, row by row, the non-NULL ``pieces`` joined by ``separator``; NULL where all are NULL.

    pyarrow 26's ``binary_join_element_wise(..., null_handling="skip")`` returns the wrong number
    of rows (rows whose pieces are all NULL go missing), so this joins without it.
    """
    if not pieces:
        raise ValueError("nothing to join")
    empty = pa.scalar("", pa.large_string())
    padded = [
        pc.if_else(
            pc.is_valid(piece),
            pc.binary_join_element_wise(pc.cast(piece, pa.large_string()), empty, empty),
            empty,
        )
        for piece in pieces
    ]
    marked = [
        padded[0],
        *(
            pc.if_else(
                pc.is_valid(piece),
                pc.binary_join_element_wise(pa.scalar(separator, pa.large_string()), value, empty),
                empty,
            )
            for piece, value in zip(pieces[1:], padded[1:], strict=True)
        ),
    ]
    joined = pc.binary_join_element_wise(*marked, empty) if len(marked) > 1 else marked[0]
    # A row whose first pieces were NULL starts with the separator of the first present piece.
    if len(marked) > 1:
        joined = pc.if_else(pc.is_valid(pieces[0]), joined, pc.utf8_slice_codeunits(joined, len(separator)))
    any_present = pieces[0].is_valid()
    for piece in pieces[1:]:
        any_present = pc.or_(any_present, pc.is_valid(piece))
    return pc.if_else(any_present, joined, pa.scalar(None, pa.large_string()))
