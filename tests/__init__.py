"""The tests mirror the code: attn_jax/<package>/test_<module>.py, ui/<package>/test_<module>.py,
pages/ (Streamlit AppTest, one page runner in apptest.py), scripts/, browser/ (headless
Chromium against one shared server); shared fixtures in conftest.py, array helpers in
helpers.py, hostile text in payloads.py; load.py and latency.py are benchmarks with a CLI."""
