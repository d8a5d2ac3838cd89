"""Bit-exact binary storage of time series: a compressed NumPy archive per series.

An archive holds the UTC timestamps as int64 nanoseconds, the values as float64
(one column per symbol for a frame) and a small JSON header with the names, the
index frequency and the value dtype. ``np.load(allow_pickle=False)`` reads it back,
so a stored blob can never execute code.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput


def _index_ns(index: pd.Index, what: str) -> np.ndarray:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InvalidInput(f"{what} needs a timezone-aware DatetimeIndex")
    return index.tz_convert("UTC").as_unit("ns").asi8


def _dump(index: pd.DatetimeIndex, values: np.ndarray, header: dict, what: str) -> bytes:
    header = {**header, "index_name": index.name, "freq": index.freqstr if index.freq is not None else None}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, ts_ns=_index_ns(index, what), values=values,
                        header=np.array(json.dumps(header)))
    return buffer.getvalue()


def _load(blob: bytes | memoryview) -> tuple[pd.DatetimeIndex, np.ndarray, dict]:
    with np.load(io.BytesIO(bytes(blob)), allow_pickle=False) as archive:
        ts_ns, values, header = archive["ts_ns"], archive["values"], json.loads(str(archive["header"]))
    index = pd.DatetimeIndex(pd.to_datetime(ts_ns, unit="ns", utc=True), name=header.get("index_name"))
    if header.get("freq"):
        try:  # a calendar frequency ("C" with holidays) cannot be rebuilt from its string: left unset
            index = pd.DatetimeIndex(index, freq=header["freq"])
        except ValueError:
            pass
    return index, values, header


def series_to_bytes(series: pd.Series, *, what: str = "series") -> bytes:
    """Encode a float series with a UTC DatetimeIndex."""
    values = series.to_numpy(dtype="float64")
    return _dump(series.index, values, {"name": series.name, "dtype": str(series.dtype)}, what)


def series_from_bytes(blob: bytes | memoryview) -> pd.Series:
    index, values, header = _load(blob)
    return pd.Series(values, index=index, name=header.get("name")).astype(header.get("dtype") or "float64")


def frame_to_bytes(frame: pd.DataFrame, *, what: str = "frame") -> bytes:
    """Encode a frame of float columns (e.g. closes or positions per symbol)."""
    values = frame.to_numpy(dtype="float64")
    header = {"columns": [str(c) for c in frame.columns], "columns_name": frame.columns.name,
              "dtypes": [str(t) for t in frame.dtypes]}
    return _dump(frame.index, values, header, what)


def frame_from_bytes(blob: bytes | memoryview) -> pd.DataFrame:
    index, values, header = _load(blob)
    frame = pd.DataFrame(values.reshape(len(index), len(header["columns"])), index=index,
                         columns=pd.Index(header["columns"], name=header.get("columns_name")))
    return frame.astype(dict(zip(frame.columns, header["dtypes"], strict=True)))
