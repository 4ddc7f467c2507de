"""Roll HES episodes up to provider spells, by the method the profile states in words.

Episodes sharing the profile's ``spell_key`` form one spell, ordered by the profile's episode
order. The spell takes every column from its first episode except the discharge date, which
comes from its last; each code list joins every episode's codes in order in the SUS+ form
(``||`` before each episode, ``,`` between codes). Worked examples: ``tests/unit/extracts/test_episodes.py``.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.arrow_text import join_present
from rfd_lib.extracts.profiles import Profile, fold

FROM_LAST_EPISODE = ("discharge_date",)


def episode_codes(raw: pa.Table, profile: Profile) -> dict[str, pa.Array]:
    """Return, per episode, the primary code and the code list of each coded column of the profile."""
    assert profile.episodes is not None
    by_fold = {fold(name): name for name in raw.column_names}
    placeholders = pa.array(profile.episodes.code_placeholders, pa.large_string())
    out: dict[str, pa.Array] = {}
    for canonical, where in profile.episodes.codes.items():
        numbered = sorted(
            (name for name in raw.column_names if re.fullmatch(where.columns, name.strip(), re.IGNORECASE)),
            key=lambda name: [int(n) for n in re.findall(r"\d+", name)] or [0],
        )
        if numbered:
            codes = [_code(raw.column(name), placeholders) for name in numbered]
            joined = join_present(codes, ",")
            primary = codes[0]
        else:
            joined = _listed_codes(raw.column(by_fold[fold(where.concat or "")]), placeholders)
            primary = _first_code(joined)
        out[canonical] = pc.if_else(pc.equal(joined, ""), None, joined)
        out[where.primary] = primary
    return out


def roll_up(episodes: pa.Table, profile: Profile) -> tuple[pa.Table, np.ndarray]:
    """Return one row per spell from typed canonical ``episodes``, and each episode's spell number.

    ``episodes`` has the canonical columns, ``source_row``, ``_order`` (the episode order as a
    number) and ``_episode_id``. The spell number of an episode indexes the returned table.
    """
    assert profile.episodes is not None
    key = list(profile.episodes.spell_key)
    numbered = episodes.append_column("_position", pa.array(np.arange(episodes.num_rows)))
    ordered = numbered.sort_by(
        [(name, "ascending") for name in key] + [("_order", "ascending"), ("_position", "ascending")]
    )
    coded = list(profile.episodes.codes)
    aggregations = [("_episode_id", "first")]
    for name in ordered.column_names:
        if name in key or name in ("_episode_id", "_order", "_position") or name in coded:
            continue
        aggregations.append((name, "last" if name in FROM_LAST_EPISODE else "first"))
    aggregations += [(name, "list") for name in coded]
    aggregations.append(("_position", "list"))
    # Single-threaded grouping keeps each group's rows in their sorted (episode) order.
    grouped = ordered.group_by(key, use_threads=False).aggregate(
        [
            (name, how, pc.ScalarAggregateOptions(skip_nulls=False))
            if how in ("first", "last")
            else (name, how)
            for name, how in aggregations
        ]
    )
    columns: dict[str, pa.Array] = {"spell_id": grouped.column("_episode_id_first")}
    for name in key:
        columns[name] = grouped.column(name)
    for name, how in aggregations[1:]:
        if how in ("first", "last"):
            columns[name] = grouped.column(f"{name}_{how}")
    for name in coded:
        lists = grouped.column(f"{name}_list").combine_chunks()
        prefixed = pc.binary_join_element_wise(
            pa.scalar("||", pa.large_string()),
            pc.fill_null(lists.flatten(), ""),
            pa.scalar("", pa.large_string()),
        )
        rebuilt = pa.ListArray.from_arrays(lists.offsets, prefixed)
        joined = pc.binary_join(rebuilt, pa.scalar("", pa.large_string()))
        columns[name] = pc.if_else(pc.equal(pc.replace_substring(joined, "||", ""), ""), None, joined)
    positions = grouped.column("_position_list").combine_chunks()
    spell_of = np.empty(episodes.num_rows, dtype=np.int64)
    lengths = np.diff(positions.offsets.to_numpy())
    spell_of[positions.flatten().to_numpy()] = np.repeat(np.arange(len(lengths)), lengths)
    return pa.table(columns), spell_of


def _code(values: pa.ChunkedArray | pa.Array, placeholders: pa.Array) -> pa.Array:
    text = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    text = pc.cast(text, pa.large_string())
    trimmed = pc.utf8_trim(text, " ")
    return pc.if_else(pc.or_(pc.is_in(trimmed, placeholders), pc.equal(trimmed, "")), None, text)


def _listed_codes(values: pa.ChunkedArray | pa.Array, placeholders: pa.Array) -> pa.Array:
    """Return a comma-separated code list without its placeholders and empty entries.

    This is the list the numbered columns would give: ``'V485,-,&'`` → ``'V485'``.
    """
    text = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    lists = pc.split_pattern(pc.cast(text, pa.large_string()), ",")
    entries = lists.flatten()
    trimmed = pc.utf8_trim(entries, " ")
    keep = pc.invert(pc.or_(pc.is_in(trimmed, placeholders), pc.equal(trimmed, ""))).to_numpy(
        zero_copy_only=False
    )
    kept = np.bincount(pc.list_parent_indices(lists).to_numpy()[keep], minlength=len(lists))
    offsets = pa.array(np.concatenate([[0], np.cumsum(kept)]), pa.int64())
    rebuilt = pa.LargeListArray.from_arrays(offsets, entries.filter(pa.array(keep)), mask=pc.is_null(lists))
    return pc.binary_join(rebuilt, pa.scalar(",", pa.large_string()))


def _first_code(concat: pa.Array) -> pa.Array:
    first = pc.replace_substring_regex(concat, r"^\s*([^,]*?)\s*(,.*)?$", r"\1")
    return pc.if_else(pc.equal(first, ""), None, first)
