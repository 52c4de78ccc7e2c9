"""Fixed teaching content: the worked example every page starts from, the course's
illustrative numbers and the Concept page's tables.

Pure data and pandas; never imports streamlit.
"""

from __future__ import annotations

import pandas as pd

MAX_CHARS = 2000  # any text box: longer text is cut before tokenizing (the model keeps 256 pieces)
EXAMPLE = "The animal didn't cross the street because it was too tired."
COUNTERFACTUAL = "The animal didn't cross the street because it was too wide."

# The course's illustrative row for "it" (not a model's output): word -> weight; the course
# gives no number for "it" itself (NaN: drawn as no bar, labelled "–").
ILLUSTRATIVE_ROW = {
    "The": 0.01,
    "animal": 0.85,
    "didn't": 0.05,
    "cross": 0.01,
    "the": 0.01,
    "street": 0.01,
    "because": 0.02,
    "it": float("nan"),
    "was": 0.01,
    "too": 0.01,
    "tired": 0.02,
}

CORE_IDEA = [
    (
        "1 · Score",
        "Each token asks a question (its query) and compares it with every other token's "
        "label (its key): one score per pair of positions.",
    ),
    (
        "2 · Mix",
        "Softmax turns a token's scores into weights that sum to 1, and the token's new vector "
        "is the weighted sum of all the tokens' values.",
    ),
    (
        "3 · Connect",
        "Any two tokens are one step apart, however far apart they sit: “it” can reach "
        "“animal” directly, with no chain of steps in between.",
    ),
]


def architecture_table() -> pd.DataFrame:
    """RNN vs CNN vs self-attention (n tokens, d model dim, k kernel size)."""
    return pd.DataFrame(
        {
            "per-layer cost": ["O(n·d²)", "O(k·n·d²)", "O(n²·d)"],
            "sequential steps": ["O(n)", "O(1)", "O(1)"],
            "max path length between two tokens": [
                "O(n)",
                "O(n/k) (contiguous), O(log_k n) (dilated)",
                "O(1)",
            ],
            "limitation": [
                "steps run one after another (slow to train); far-apart information fades",
                "sees only a window per layer; needs many layers for long-range links",
                "cost and memory grow with n²; no built-in notion of order (needs positions)",
            ],
        },
        index=pd.Index(["RNN", "CNN", "Self-attention"], name="layer type"),
    )
