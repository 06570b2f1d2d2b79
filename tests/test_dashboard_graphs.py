"""AppTest of the Phenotype graphs page: correlation/exclusion networks and node details."""

from __future__ import annotations

import os

import pytest

from dashboard import testing as t

pytestmark = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                reason=str(t.model_missing_reason()))



@pytest.fixture(scope="module")
def page():
    at = t.app()
    at.run()
    at.switch_page("dashboard/pages/graphs.py").run()
    return at


def test_two_networks_around_a_phenotype(page):
    at = page
    t.assert_clean(at)
    centre = at.session_state["graph_term"]
    nets = [s for s in t.plotly_specs(at) if any(tr.get("mode") == "markers+text" for tr in s["data"])]
    assert len(nets) >= 1
    nodes = next(tr for tr in nets[0]["data"] if tr.get("mode") == "markers+text")
    assert centre in nodes["customdata"]  # the chosen phenotype is in its own graph
    # readable labels: node text is the term name, not the id
    from dashboard import models

    names = models.term_names(models.default_model_name())
    i = nodes["customdata"].index(centre)
    assert nodes["text"][i].rstrip("…")[:15] == names[centre][:15].rstrip("…")[:15]


def test_node_details_ancestors_and_concepts(page):
    at = page
    node = at.selectbox(key="graph_node")
    current = at.session_state["graph_node"]
    assert current == at.session_state["graph_term"]
    concepts = t.table(at, "concept_id", "concept_name", "weight")
    assert concepts is not None and len(concepts) >= 5
    assert concepts["concept_id"].str.startswith("GO:").all()
    # the top concepts are the largest W_p weights of that phenotype
    from dashboard import models

    model = models.get_model(models.default_model_name())
    k = model.terms.index[model.terms["term_id"] == current][0]
    assert concepts["weight"].iloc[0] == pytest.approx(float(model.W_p[k].max()), rel=1e-5)
    # ... and the mouse phenotypes of homologs with the largest W_o weights (the hpo model reads mpo)
    homologs = t.table(at, "term_id", "name", "weight")
    assert homologs is not None and len(homologs) == 10 and homologs["term_id"].str.startswith("MP:").all()
    assert homologs["weight"].is_monotonic_decreasing
    assert homologs["weight"].iloc[0] == pytest.approx(float(model.W_o([k]).max()), rel=1e-4)
    # choosing another node updates the details
    others = [n for n in at.session_state["graph_nodes_correlation"] if n != current]
    if others:
        node.set_value(others[0]).run()
        t.assert_clean(at)
        assert at.session_state["graph_node"] == others[0]
        assert f"`{others[0]}`" in " ".join(m.value for m in at.markdown)


def test_change_centre_phenotype(page):
    at = page
    box = at.selectbox(key="w_graph_term")
    from dashboard import models

    names = models.term_names(models.default_model_name())
    target = list(names)[5]
    box.set_value(target).run()
    t.assert_clean(at)
    assert at.session_state["graph_term"] == target
    assert at.session_state["graph_node"] == target


def test_graph_around_gene_predictions():
    at = t.app()
    at.run()
    t.predict(at, t.fasta_record("P01308"))
    at.switch_page("dashboard/pages/graphs.py").run()
    at.radio(key="graph_mode").set_value("Around a gene's predictions").run()
    t.assert_clean(at)
    preds = at.session_state["predictions"]
    nets = [s for s in t.plotly_specs(at) if any(tr.get("mode") == "markers+text" for tr in s["data"])]
    assert nets
    nodes = next(tr for tr in nets[0]["data"] if tr.get("mode") == "markers+text")
    assert set(nodes["customdata"]) & set(preds["term_id"])


def test_empty_exclusion_graph_says_why_and_lists_phenotypes_with_partners(page):
    at = page
    from dashboard import models, views

    model_name = models.default_model_name()
    partners = views.exclusion_partners(model_name)
    without = next(t_ for t_ in ("HP:0001250", "HP:0002664", "HP:0004322", "HP:0000256")
                   if t_ in models.term_names(model_name) and t_ not in set(partners["term_id"]))
    at.selectbox(key="w_graph_term").set_value(without).run()
    t.assert_clean(at)
    infos = [t.md_unescape(i.value) for i in at.info]
    assert any("No exclusive partner" in i and f"{len(partners):,} phenotypes" in i for i in infos), infos
    listed = t.table(at, "term_id", "n_partners")
    assert listed is not None and set(listed["term_id"]) == set(partners["term_id"])
    # every listed phenotype does have a partner: its graph has an edge
    graph, _, _ = models.phenotype_graph(model_name, "exclusion", (listed["term_id"].iloc[0],))
    assert graph.number_of_edges() >= 1
