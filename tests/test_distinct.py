import numpy as np
import pandas as pd

from sdtm_lupus.distinct import map_distinct, shared_text


def test_map_distinct_calls_once_per_distinct_value_and_keeps_missing_kinds_apart():
    calls = []

    def fn(v):
        calls.append(v)
        return "missing" if not isinstance(v, str) else v.lower()

    out = map_distinct(pd.Series(["A", "B", "A", None, np.nan, "B"], index=[5, 4, 3, 2, 1, 0], dtype=object), fn)
    assert out.tolist() == ["a", "b", "a", "missing", "missing", "b"] and list(out.index) == [5, 4, 3, 2, 1, 0]
    assert sorted(c for c in calls if isinstance(c, str)) == ["A", "B"] and len(calls) == 4


def test_shared_text_keeps_values_and_shares_one_object_per_distinct_text():
    rows = pd.Series(["".join(["2021-03-0", "5"]) for _ in range(3)] + [None, np.nan, "X"], index=list("abcdef"), dtype=object)
    assert rows["a"] is not rows["b"]          # built one by one: separate objects
    out = shared_text(rows)
    assert out["a"] is out["b"] is out["c"] and out["a"] == "2021-03-05"
    assert out["d"] is None and np.isnan(out["e"]) and out["f"] == "X"
    assert list(out.index) == list("abcdef") and out.dtype == object
