"""The app's fixed text: the worked example every page starts from, its counterfactual, and
the length cap of every text box. Pure data; never imports streamlit."""

from __future__ import annotations

MAX_CHARS = 2000  # any text box: longer text is cut before tokenizing (the model keeps 256 pieces)
EXAMPLE = "The animal didn't cross the street because it was too tired."
COUNTERFACTUAL = "The animal didn't cross the street because it was too wide."
