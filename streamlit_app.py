"""GenePheno interpretability dashboard: `streamlit run streamlit_app.py`.

The entry point only registers the pages (dashboard/pages/) and the session defaults;
the pages call the model core through its public API (dashboard/models.py: model access;
inputs.py: user input; gene_records.py: the proteins shown; views.py: tables; widgets.py).
"""

import streamlit as st

from dashboard import state

st.set_page_config(page_title="GenePheno", page_icon=":material/genetics:", layout="wide")
state.init_state()

pages = [
    st.Page("dashboard/pages/predict.py", title="Predict", icon=":material/biotech:", default=True),
    st.Page("dashboard/pages/explain.py", title="Explain", icon=":material/insights:"),
    st.Page("dashboard/pages/case_studies.py", title="Case studies", icon=":material/menu_book:"),
    st.Page("dashboard/pages/graphs.py", title="Phenotype graphs", icon=":material/hub:"),
    st.Page("dashboard/pages/model.py", title="Model", icon=":material/monitoring:"),
]
st.navigation(pages).run()
