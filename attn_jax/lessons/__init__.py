"""Teaching helpers: pure numbers for the pages (numpy out, never streamlit).

Modules:
  steps           attention with every intermediate kept (X, Q, K, V, scores, weights, out)
                  and one cell's arithmetic
  real_steps      one head of a trained model step by step, with its real X and weights
  inputs          the Math page's token vectors and seeded projections
  scaling         why divide by √d_k: the experiment
  heads           head statistics, roles (heuristics), JS divergence, clustering
  explore         finding heads: the one linking a query to a target, pattern heads
  decoder_heads   induction, previous-token and attention-sink scores of a causal decoder
  induction       the copy task (spans copied at random offsets) and its held-out scores
  decoder_lessons what the Concept page shows of the decoder (predictions, training log,
                  the KV cache against a full run)
  value_weighted  ‖a_ij · v_j W_O‖ (Kobayashi et al. 2020) and the share on [CLS]/[SEP]
  rollout         attention rollout (Abnar & Zuidema 2020)
  gqa             grouped-query attention made from the real encoder
  kv_cache        KV-cache arithmetic, the toy multi-head run, heads of real models
  facts           sizes of well-known transformers
  quiz, concept_quiz  predict-then-reveal questions answered from the numbers on screen
"""
