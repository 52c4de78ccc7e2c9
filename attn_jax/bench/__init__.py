"""Measurements that print figures (`python -m attn_jax.bench ...`), and the live sweep of the
Complexity page with its methods and guard rails."""
