"""Plotly figure builders: numpy in, go.Figure out. Never imports streamlit (a test checks).

base.py           colours, the chart config, tick and cell-text rules; heatmap, one row
                  as bars, lines between tokens
click_heatmap.py  a heatmap whose cells can be clicked (and read back from the event)
math.py           the Math page: each step's matrix, the cell's arithmetic, √d_k
multihead.py      the Multi-head page: toy heads, the head mosaic, pinned heads, head
                  statistics, GQA groups, KV-cache bars
beyond.py         value-weighted and rollout views, GQA made from the real model
decoder.py        the decoder: per-head scores, training curves
complexity.py     the Complexity page: measured time, memory, windows, decode, ring
"""
