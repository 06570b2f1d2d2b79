"""AppTest of the Case studies page: true vs predicted phenotypes, concepts vs GO annotations."""

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
    at.switch_page("dashboard/pages/case_studies.py").run()
    return at


def test_case_study_truth_vs_prediction(page):
    at = page
    t.assert_clean(at)
    box = at.selectbox(key="w_case_gene")
    assert len(box.options) >= 5  # the shipped case studies
    cases = at.session_state["case_gene"]
    assert cases.startswith("case:")
    comparison = t.table(at, "status", "term_name", "score")
    assert comparison is not None and len(comparison)
    statuses = set(comparison["status"])
    assert statuses <= {"hit", "miss", "false alarm"}
    # the metric tiles count the table's rows
    metrics = {m.label: int(m.value) for m in at.metric}
    assert metrics["Hits"] + metrics["Misses"] + metrics["False alarms"] == len(comparison)
    assert metrics["Hits"] == (comparison["status"] == "hit").sum()
    specs = t.plotly_specs(at)
    assert {tr["name"] for tr in specs[0]["data"]} <= {"hit", "miss", "false alarm"}


def test_concepts_next_to_go_annotations(page):
    at = page
    concepts = t.table(at, "concept_name", "activation", "annotated")
    assert concepts is not None and len(concepts) == 20
    assert concepts["activation"].is_monotonic_decreasing
    go = t.table(at, "go_id", "name")
    assert go is not None and go["go_id"].str.match(r"^GO:\d{7}$").all()


def test_every_case_study_renders(page):
    at = page
    from dashboard import gene_records, models

    for gene in gene_records.case_study_genes(models.default_model_name())[:4]:
        at.selectbox(key="w_case_gene").set_value(gene.key).run()
        t.assert_clean(at)
        assert gene.short in t.plotly_specs(at)[0]["layout"]["title"]["text"]


def test_search_by_symbol_and_unknown_gene(page):
    at = page
    from dashboard import gene_records, models

    first = gene_records.case_study_genes(models.default_model_name())[0]
    at.text_input(key="case_query").input(first.symbol).run()
    t.assert_clean(at)
    assert first.symbol in at.selectbox(key="w_case_gene").value or \
        at.session_state["case_gene"].endswith(first.accession)
    at.text_input(key="case_query").input("NOSUCHGENE123").run()
    assert not at.exception
    assert any("No gene matching" in w.value for w in at.warning)


def test_use_go_annotations_toggle(page):
    at = page
    at.text_input(key="case_query").input("").run()
    before = t.table(at, "status", "score")
    at.toggle(key="case_use_go").set_value(True).run()
    t.assert_clean(at)
    after = t.table(at, "status", "score")
    assert after is not None and len(after)
    assert before is not None


def test_held_out_and_trained_genes_are_said_so(page):
    at = page
    from dashboard import gene_records, models

    genes = {g.symbol: g for g in gene_records.case_study_genes(models.default_model_name())}
    at.selectbox(key="w_case_gene").set_value(genes["FMR1"].key).run()
    t.assert_clean(at)
    assert any("held out" in t.md_unescape(s.value) for s in at.success)
    metrics = {m.label: int(m.value) for m in at.metric}  # its hits and misses, never trained on
    assert metrics["Hits"] + metrics["Misses"] > 0
    at.selectbox(key="w_case_gene").set_value(genes["TP53"].key).run()
    assert any("training gene" in t.md_unescape(w.value) for w in at.warning)
    assert "trained on" in next(o for o in at.selectbox(key="w_case_gene").options if o.startswith("TP53"))
