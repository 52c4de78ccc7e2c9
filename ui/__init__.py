"""The presentation layer, split by role (arrows: what may import what).

    views/    one module per page (its sections: widgets, layout, caching) and the shared
       |      sections (beyond raw weights, the decoder's tabs, cell links, quizzes)
       v
    app/      page set-up and navigation, the shared models, URL state, text safety, inputs,
       |      chart and download helpers
       v
    figures/  Plotly builders: numpy in, go.Figure out; never imports streamlit

Pages (pages/*.py, app.py) call a view's sections in order and hold no logic of their own.
"""
