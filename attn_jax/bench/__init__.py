"""Measurements that print figures (`python -m attn_jax.bench NAME`), and the live sweep of
the Complexity page with its methods and guard rails.

Modules:
  model, kernels, window, decode, ring, gqa   the benchmarks (one CLI: __main__)
  sweep           the Complexity page's sweep: guard rails, slope fits, long-context memory
  sweep_methods   what the sweep runs: methods, inputs, FLOPs and bytes, the timer
  worker          measurements in a short-lived worker process (memory leaves with it)
"""
