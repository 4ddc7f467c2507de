"""Drawing synthetic code columns with Arrow: picks from weighted pools, blanks, joins.

Shared by the example frame (:mod:`rfd_lib.synthetic.example`) and the multi-provider extract set
(:mod:`rfd_lib.synthetic.extract_set`); every function takes the caller's random generator, so a
seed gives the same spells every time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# How codes inside one SUS+ episode are separated, blanks and all, with their weights.
SEPARATORS = ([",", " ,", ", "], [0.5, 0.4, 0.1])


def draw(rng: np.random.Generator, pool: tuple[list[str], list[float] | None], n: int) -> pa.Array:
    """Return ``n`` values drawn from ``pool`` (values and their weights, None for equal)."""
    codes, weights = pool
    picks = rng.choice(len(codes), size=n, p=weights)
    return pa.array(codes, pa.large_string()).take(pa.array(picks))


def where(mask: np.ndarray, when_true: pa.Array, otherwise: pa.Array) -> pa.Array:
    """Return ``when_true`` where ``mask`` holds, else ``otherwise``."""
    return pc.if_else(pa.array(mask), when_true, otherwise)


def join(*parts: pa.Array | str) -> pa.Array:
    """Return the pieces (arrays or fixed text) joined row by row with nothing between them."""
    text = [pa.scalar(part, pa.large_string()) if isinstance(part, str) else part for part in parts]
    return pc.binary_join_element_wise(*text, pa.scalar("", pa.large_string()))


def blank_out(rng: np.random.Generator, values: pa.Array, share: float) -> pa.Array:
    """Return ``values`` with about ``share`` of rows NULL."""
    return pc.if_else(pa.array(rng.random(len(values)) < share), pa.scalar(None, values.type), values)
