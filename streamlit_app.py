"""GenePheno interpretability dashboard: `streamlit run streamlit_app.py`.

The entry point only registers the pages (dashboard/pages/) and the session defaults;
the pages call the model core through its public API (dashboard/models.py: model access;
query.py: the query kept in the session and the URL;
inputs.py: user input; gene_records.py: the proteins shown; views.py: tables; widgets.py).
"""

import streamlit as st

from dashboard import query, state

st.set_page_config(page_title="GenePheno", page_icon=":material/genetics:", layout="wide")
state.init_state()
# a reload or a shared link: the query, model, protein and phenotype come back from the URL
for problem in query.restore_from_url():
    st.warning(problem, icon=":material/link_off:")

pages = [
    st.Page("dashboard/pages/predict.py", title="Predict", icon=":material/biotech:", default=True),
    st.Page("dashboard/pages/explain.py", title="Explain", icon=":material/insights:"),
    st.Page("dashboard/pages/case_studies.py", title="Case studies", icon=":material/menu_book:"),
    st.Page("dashboard/pages/graphs.py", title="Phenotype graphs", icon=":material/hub:"),
    st.Page("dashboard/pages/model.py", title="Model", icon=":material/monitoring:"),
]
try:
    st.navigation(pages).run()
finally:
    # whatever the page did (also after st.stop()): the kept values go into the URL
    query.write_url()
