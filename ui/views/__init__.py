"""Page sections (Streamlit): each function owns its widgets and draws one part of a page.

    concept.py     the Concept page        math.py        the Math page
    multihead.py   the Multi-head page     gqa.py         its GQA and KV-cache sections
    complexity.py  the Complexity page     home.py        the Home page (app.py)
Shared by several pages:
    beyond.py      raw / value-weighted / rollout maps, the [CLS]/[SEP] share
    decoder.py     the decoder's tabs (next tokens, sinks, induction, training, KV cache)
    cell_link.py   attention maps whose clicked cell opens the Math page
    quiz.py        predict, then reveal
"""
