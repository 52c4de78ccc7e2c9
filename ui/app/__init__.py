"""What every page shares (Streamlit side, except the pure modules marked "pure"):

page.py        page_setup (page config, view from the URL, sidebar), navigation, the
               page files (MATH_PAGE …) and the course header
models.py      the encoder and decoder loaded once per server; run_of(source, text),
               model_of(source), their outputs cached across sessions
server.py      the process set-up: malloc, huge pages, the heap-trimmer thread
url_params.py  pure: URL keys (Param) parsed and written, with notices for bad values
url_state.py   a page's view <-> its URL through session state; URL-bound tabs
text.py        pure: visitor text made safe (md_escape, plotly_text, token_labels)
inputs.py      the sentence box (clean_text, sentence_input)
content.py     pure: the worked example, its counterfactual, the text length cap
charts.py      st.plotly_chart with the app's keywords (chart, PLOTLY)
downloads.py   CSV exports (matrix_csv, table_csv: pure) and csv_button
"""
