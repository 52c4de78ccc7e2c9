"""ui.app.downloads: matrices and tables as CSV, formulas defused."""

import numpy as np
import pytest

from ui.app import downloads


def test_csv_exports():
    csv = downloads.matrix_csv(np.eye(3), ["[CLS]", "=1+1", "[SEP]"])
    lines = csv.strip().splitlines()
    assert lines[0] == "query \\ key,[CLS],'=1+1,[SEP]"
    assert lines[2].startswith("'=1+1,0.000000,1.000000")
    with pytest.raises(ValueError):
        downloads.matrix_csv(np.eye(2), ["a"])
    assert downloads.table_csv([{"layer": 0, "head": 1}]).splitlines() == ["layer,head", "0,1"]
