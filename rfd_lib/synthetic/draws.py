"""Drawing synthetic code columns with Arrow: picks from weighted pools, blanks, joins, miscoding.

Shared by the example frame (:mod:`rfd_lib.synthetic.example`), the multi-provider extract set
(:mod:`rfd_lib.synthetic.extract_set`) and its SUS+ columns (:mod:`rfd_lib.synthetic.sus_columns`);
every function that draws takes the caller's random generator, so a seed gives the same spells
every time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.synthetic.pathways import Style
from rfd_lib.synthetic.spell_codes import EPISODE_SEPARATORS, Pool

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


def draw_by(rng: np.random.Generator, kind: np.ndarray, pools: tuple[Pool, ...]) -> pa.Array:
    """Return one code per row from the pool of that row's kind (``pools[kind]``), with its weights.

    All pools are laid end to end on one axis, pool k over [k, k + 1), so a single searchsorted
    draws every row from its own pool.
    """
    codes: list[str | None] = []
    edges, last = [], []
    for k, (pool, weights) in enumerate(pools):
        w = np.ones(len(pool)) if weights is None else np.asarray(weights, dtype=float)
        cumulative = np.cumsum(w) / w.sum()
        cumulative[-1] = 1.0
        edges.append(k + cumulative)
        codes += pool
        last.append(len(codes) - 1)
    pick = np.searchsorted(np.concatenate(edges), kind + rng.random(len(kind)), side="right")
    pick = np.minimum(pick, np.asarray(last)[kind])  # k + u can round up to k + 1
    return pa.array(codes, pa.large_string()).take(pa.array(pick))


def miscode(rng: np.random.Generator, style: Style, codes: pa.Array, *, dot: bool = False) -> pa.Array:
    """Return ``codes`` with the style's share in lower case, and (procedures) dotted or blank-padded."""
    n = len(codes)
    codes = pc.if_else(pa.array(rng.random(n) < style.lower), pc.utf8_lower(codes), codes)
    if dot:
        four = pc.fill_null(pc.equal(pc.utf8_length(codes), 4), False).to_numpy(zero_copy_only=False)
        dotted = join(pc.utf8_slice_codeunits(codes, 0, 3), ".", pc.utf8_slice_codeunits(codes, 3))
        codes = pc.if_else(pa.array(four & (rng.random(n) < style.dotted)), dotted, codes)
        codes = pc.if_else(pa.array(rng.random(n) < style.blank), join(codes, " "), codes)
    return codes


def only(rng: np.random.Generator, eligible: np.ndarray, share: float, codes: pa.Array) -> pa.Array:
    """Return ``codes`` where ``eligible`` and a draw falls under ``share``, NULL elsewhere."""
    keep = eligible & (rng.random(len(codes)) < share)
    return pc.if_else(pa.array(keep), codes, pa.scalar(None, codes.type))


def concatenate(
    rng: np.random.Generator, first: pa.Array, more: list[pa.Array], episode: pa.Array
) -> pa.Array:
    """Return SUS+ concatenations, NULL where ``first`` is NULL.

    Each is '||' + first, then each present code of ``more`` after a ',' (blanks optional), then
    the ``episode`` code, when present, as a second episode after '||'.
    """
    n = len(first)
    empty = pa.scalar("", pa.large_string())
    parts = [join(draw(rng, SEPARATORS, n), code) for code in more]
    parts.append(join(draw(rng, EPISODE_SEPARATORS, n), episode))
    joined = pc.binary_join_element_wise(
        pa.scalar("||", pa.large_string()), first, *parts, empty, null_handling="replace"
    )
    return pc.if_else(pc.is_null(first), pa.scalar(None, pa.large_string()), joined)


def pseudo_numbers(keys: np.ndarray) -> pa.Array:
    """Return 'P' + 9 digits for each key: a bijection mod 10^9, so distinct keys never collide."""
    digits = (keys * 387_420_489 + 271_828_182) % 1_000_000_000  # 3^18 is coprime to 10^9
    text = pc.utf8_lpad(pa.array(digits, pa.int64()).cast(pa.large_string()), width=9, padding="0")
    return join("P", text)


def day_dates(days: np.ndarray) -> pa.Array:
    """Return days since 1970-01-01 as ISO date text (``2025-04-02``)."""
    return pa.array(days.astype("datetime64[D]")).cast(pa.large_string())
