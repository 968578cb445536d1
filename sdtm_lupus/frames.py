"""Whole-frame steps on the large datasets (QS, LB, ADEFF: millions of rows) done column by column,
so that memory holds the result and one column in flight, not two copies of the frame."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sorted_rows(frame: pd.DataFrame, by: list[str], *, na_position: str = "last",
                consume: bool = False) -> pd.DataFrame:
    """`frame.sort_values(by, kind="stable", na_position=...).reset_index(drop=True)`.

    The order is computed on the key columns alone, then the rows are taken one column at a
    time. consume=True empties `frame` on the way (each column is released once taken): for
    a frame the caller no longer needs, so that its memory is freed as the sorted copy grows.
    """
    keys = list(dict.fromkeys(by))
    ranked = frame[keys].reset_index(drop=True).sort_values(by, kind="stable", na_position=na_position)
    positions = ranked.index.to_numpy()
    if np.array_equal(positions, np.arange(len(frame))):
        return frame.reset_index(drop=True)
    return take_rows(frame, positions, consume=consume)


def take_rows(frame: pd.DataFrame, positions: np.ndarray, *, consume: bool = False) -> pd.DataFrame:
    """`frame.take(positions).reset_index(drop=True)`, one column at a time (consume: see sorted_rows)."""
    if not frame.columns.is_unique:         # columns are taken by label: take the frame whole
        return frame.take(positions).reset_index(drop=True)
    source = frame if consume else frame.copy(deep=False)
    columns = frame.columns
    taken = {}
    for column in list(columns):
        values = source.pop(column)
        taken[column] = pd.Series(values.array.take(positions), dtype=values.dtype, copy=False)
    return pd.DataFrame(taken, columns=columns, copy=False)
