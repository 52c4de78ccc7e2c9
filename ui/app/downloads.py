"""Tables and matrices as CSV downloads: the CSV text (pure, testable) and the button that
builds it only when clicked."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st


def _csv_safe(label: str) -> str:
    """Stop spreadsheets from reading a token such as '=1+1' as a formula."""
    return "'" + label if label[:1] in ("=", "+", "-", "@", "\t", "\r") else label


def matrix_csv(matrix, tokens: Sequence[str], columns: Sequence[str] | None = None) -> str:
    """A matrix [T,S] as CSV, rows = queries, columns = keys, tokens as labels.

    `columns` labels the columns when they are not the tokens (e.g. heads)."""
    m = np.asarray(matrix, dtype=np.float64)
    rows = [_csv_safe(str(t)) for t in tokens]
    cols = rows if columns is None else [_csv_safe(str(c)) for c in columns]
    if m.shape != (len(rows), len(cols)):
        raise ValueError(f"matrix {m.shape} does not fit {len(rows)} × {len(cols)} labels")
    name = "query \\ key" if columns is None else ""
    frame = pd.DataFrame(m, index=pd.Index(rows, name=name), columns=cols)
    buf = io.StringIO()
    frame.to_csv(buf, float_format="%.6f")
    return buf.getvalue()


def table_csv(rows: list[dict]) -> str:
    """A table (list of dict rows) as CSV."""
    return pd.DataFrame(rows).to_csv(index=False)


def csv_button(make_csv, name: str, key: str, label: str = "CSV") -> None:
    """A download of `name`.csv whose text (make_csv() or a str) is built only when clicked."""
    st.download_button(
        label, make_csv, f"{name}.csv", "text/csv", key=key, icon=":material/download:",
        on_click="ignore",
    )  # fmt: skip
