"""Teaching helpers: single-head steps, the inputs and the √d_k experiment of the Math page,
head statistics and roles, head finding, KV-cache arithmetic and the facts tables."""
