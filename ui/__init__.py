"""Presentation layer: Plotly figure builders (no streamlit) and shared Streamlit pieces."""
