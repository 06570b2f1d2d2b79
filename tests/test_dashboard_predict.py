"""AppTest of the Predict page on the shipped default model with real human proteins."""

from __future__ import annotations

import io
import json
import gzip
import os
import re

import pandas as pd
import pytest

from dashboard import testing as t

pytestmark = pytest.mark.skipif(t.model_missing_reason() is not None and not os.environ.get("CI"),
                                reason=str(t.model_missing_reason()))


@pytest.fixture(scope="module")
def predicted():
    at = t.app()
    at.run()
    t.assert_clean(at)
    return t.predict(at, t.fasta_record("P05155"))  # SERPING1, 500 residues


def _model():
    return t.pasted_model()  # a pasted protein without GO is scored by the default's -go-transfer sibling


def _ancestors():
    from genepheno_core.interpret.inference import model_extras

    model = _model()
    anc = model_extras(model).term_ancestors.tocsr()
    ids = model.terms["term_id"].tolist()
    return {t: {ids[j] for j in anc[i].indices} for i, t in enumerate(ids)}


def test_default_view_is_the_most_specific_phenotypes(predicted):
    at = predicted
    t.assert_clean(at)
    table = t.table(at, "rank", "term_name", "prior")
    assert list(table.columns) == ["rank", "term_name", "score", "prior", "gain", "known",
                                   "above_threshold", "n_folded"]
    assert len(table) == 20 and list(table["rank"]) == list(range(1, 21))
    assert table["score"].is_monotonic_decreasing
    # ids and specificity on request (always in the downloads)
    at.toggle(key="predict_show_ids").set_value(True).run()
    table = t.table(at, "rank", "term_name", "prior")
    assert {"ic", "term_id"} <= set(table.columns)
    # no row of the default view is an ancestor of another row there
    anc = _ancestors()
    shown = set(table["term_id"])
    assert not any(anc[t] & shown for t in shown)
    # the page shows exactly the core's specific view (score, prior, gain over it)
    import genepheno_core as gp

    core = gp.predict(_model(), [("SERPING1 (P05155)", t.sequence("P05155"))], top=20, view="specific")
    core = core[core["folded_under"] == ""]
    assert list(core["term_id"]) == list(table["term_id"])
    for col in ("score", "prior", "gain", "ic"):
        pd.testing.assert_series_equal(core[col].reset_index(drop=True), table[col].reset_index(drop=True),
                                       check_names=False, rtol=1e-6)
    assert list(table["above_threshold"]) == list(table["score"] >= _model().threshold)
    # bar chart of the same terms, labelled by name, with each term's prior as a marker
    specs = t.plotly_specs(at)
    bar, prior = specs[0]["data"][0], specs[0]["data"][1]
    assert bar["type"] == "bar" and sorted(bar["x"], reverse=True) == pytest.approx(list(table["score"]))
    assert sorted(prior["x"]) == pytest.approx(sorted(table["prior"]))
    labels = t.download_labels(at)
    for label in ("Shown rows CSV", "All terms CSV", "All terms JSON", "PNG", "SVG", "HTML"):
        assert label in labels
def test_threshold_is_the_models_and_says_what_it_gave(predicted):
    at = predicted
    model = _model()
    assert at.slider(key="w_threshold").value == pytest.approx(round(model.threshold, 2))
    text = t.md_unescape(next(m.value for m in at.markdown if "pass the threshold" in m.value))
    valid = model.metrics["valid"]
    assert f"Threshold {model.threshold:.2f}" in text and "validation" in text
    assert f"{100 * valid['precision']:.0f} %" in text and f"{100 * valid['recall']:.0f} %" in text


def test_fold_sort_filter_and_all_terms(predicted):
    at = predicted
    at.toggle(key="predict_show_ids").set_value(True)
    at.toggle(key="predict_show_folded").set_value(True).run()
    table = t.table(at, "rank", "term_name", "folded_under")
    folded = table[table["term_name"].str.startswith("↳ ")]
    assert len(folded) == t.table(at, "rank", "term_name", "folded_under")["n_folded"].sum() > 0
    anc = _ancestors()
    ids = dict(zip(table["term_name"], table["term_id"]))
    for row in folded.itertuples():
        assert row.term_id in anc[ids[row.folded_under]]  # folded under a descendant of it
    at.toggle(key="predict_show_folded").set_value(False).run()
    at.selectbox(key="w_sort").set_value("gain over the prior").run()
    assert t.table(at, "rank", "term_name", "prior")["gain"].is_monotonic_decreasing
    at.selectbox(key="w_sort").set_value("score").run()
    at.radio(key="w_view").set_value("All terms").run()
    every = t.table(at, "rank", "term_name", "prior")
    assert list(every["rank"]) == list(range(1, 21)) and "n_folded" not in every
    # any phenotype of the scoring model (Angioedema itself has too few training genes for the
    # split vocabulary of the -go-transfer model: "edema" terms it has)
    at.text_input(key="predict_filter").input("edema").run()
    found = t.table(at, "rank", "term_name", "prior")
    expected = _model().terms["name"].str.lower().str.contains("edema").sum()
    assert len(found) == min(expected, 20) and found["term_name"].str.lower().str.contains("edema").all()
    at.text_input(key="predict_filter").input("").run()
    at.radio(key="w_view").set_value("Most specific").run()


def test_homologs_in_the_other_species(predicted):
    # the default hpo model reads the mouse knockout phenotypes of the query's homologs
    at = predicted
    from dashboard import models

    model = models.get_model(models.default_model_name())
    assert model.uses_ortholog and model.cross_species.dataset == "mpo"
    assert any(s.value == "Homologs in the other species" for s in at.subheader)
    orth = t.table(at, "gene_id", "weight")
    assert {"symbol", "identity", "weight", "phenotypes"} <= set(orth.columns)
    # weights are each hit's share of the bit scores: they sum to 1 for the one query
    assert orth["weight"].sum() == pytest.approx(1.0, abs=1e-6)
    assert orth["symbol"].iloc[0] == "Serping1"  # the mouse ortholog is the best hit
    assert orth["phenotypes"].str.len().min() > 0


def test_several_sequences_and_state_survives_page_switch():
    at = t.app()
    at.run()
    text = t.FIXTURE_FASTA.read_text()
    t.predict(at, text)
    t.assert_clean(at)
    box = at.selectbox(key="w_selected_gene")
    # named by the headers' GN= symbol and accession
    assert box.options == ["SERPING1 (P05155)", "TP53 (P04637)", "INS (P01308)"]
    at.toggle(key="predict_show_ids").set_value(True)
    box.set_value("INS (P01308)").run()
    assert "INS \\(P01308\\)" in at.subheader[0].value
    assert set(t.table(at, "rank", "term_name", "score")["term_id"]) <= set(
        at.session_state["predictions"].query("gene == 'INS (P01308)'")["term_id"])
    at.switch_page("dashboard/pages/model.py").run()
    at.switch_page("dashboard/pages/predict.py").run()
    assert at.text_area(key="w_sequence_text").value == text
    assert t.table(at, "rank", "term_name", "score") is not None


def test_threshold_and_top_n_options():
    at = t.app()
    at.run()
    at.checkbox(key="w_use_model_threshold").uncheck().run()
    at.slider(key="w_threshold").set_value(0.0)
    t.predict(at, t.fasta_record("P01308"))
    at.number_input(key="predict_rows").set_value(5).run()
    t.assert_clean(at)
    table = t.table(at, "rank", "term_name", "score")
    assert len(table) == 5
    assert table["above_threshold"].all()  # threshold 0: everything passes
    assert any("Custom threshold 0.00" in t.md_unescape(m.value) for m in at.markdown)


def test_upload_fasta_gz():
    at = t.app()
    at.run()
    data = gzip.compress(t.fasta_record("P04637").encode())
    at.get("file_uploader")[0].upload("tp53.fasta.gz", data).run()
    at.button(key="predict_button").click().run()
    t.assert_clean(at)
    assert t.table(at, "rank", "term_name", "score") is not None
    assert "P04637" in at.subheader[0].value


PEPTIDE = "MKTAYIAKQRQISFVKSHFSRQ"  # 22 residues: above the core's minimum query length


@pytest.mark.parametrize("text, go, problem", [
    pytest.param("", "", "no sequence", id="empty"),
    pytest.param("   \n  ", "", "no sequence", id="blank"),
    pytest.param(">x\nMKTAYIAK1QRQISFVKSHF", "", "invalid character '1'", id="digit"),
    pytest.param(">x\nMKTAYI-AKQR", "", "invalid character '-'", id="gap"),
    pytest.param(f">a\n{PEPTIDE}\n>a\n{PEPTIDE}V", "", "duplicate id", id="duplicate-id"),
    pytest.param("\n".join(f">s{i}\n{PEPTIDE}" for i in range(21)), "", "at most 20", id="too-many"),
    pytest.param(">long\nM" + "K" * 5000, "", "limit is 5,000", id="too-long"),
    pytest.param(f">x\n{PEPTIDE}", "GO:12 apoptosis", "not a GO id", id="bad-go"),
])
def test_bad_input_gives_friendly_error(text, go, problem):
    at = t.app()
    at.run()
    at.text_input(key="w_go_text").input(go)
    t.predict(at, text)
    assert not at.exception, [e.value for e in at.exception]
    errors = t.messages(at)["error"]  # as rendered (user text in errors is Markdown-escaped)
    assert len(errors) == 1 and problem in errors[0], errors
    assert "Traceback" not in errors[0]
    assert not at.get("plotly_chart")
    assert at.session_state["predictions"] is None


def test_downloads_are_the_predictions(predicted):
    from dashboard import export

    preds = predicted.session_state["predictions"]
    csv = pd.read_csv(io.BytesIO(export.table_to_csv(preds)))
    # every column of gp.predict: the prior, the gain over it and the specificity too
    assert list(csv.columns) == ["gene", "term_id", "term_name", "score", "above_threshold", "rank", "prior",
                                 "gain", "ic", "folded_under"]
    assert csv["gain"].notna().all() and ((csv["prior"] > 0) & (csv["prior"] < 1)).all()
    records = json.loads(export.table_to_json(preds))
    assert records[0]["term_id"] == preds["term_id"].iloc[0] and len(records) == len(preds)


def test_predictions_of_another_model_are_not_shown():
    at = t.app()
    at.run()
    t.predict(at, t.fasta_record("P01308"))
    assert t.table(at, "rank", "term_name", "score") is not None
    at.session_state["predictions_model"] = "some-other-model"  # as if the sidebar model changed
    at.run()
    assert t.table(at, "rank", "term_name", "score") is None
    assert any("press Predict" in i.value for i in at.info)


# --- issue 19: input you can trust, what the model knows, state in the URL -----------------

def _cds(protein: str) -> str:
    from Bio.Data.CodonTable import standard_dna_table

    codon = {}
    for c, aa in sorted(standard_dna_table.forward_table.items()):
        codon.setdefault(aa, c)
    return "".join(codon[aa] for aa in protein) + "TGA"


@pytest.mark.parametrize("kind", ["dna", "rna"])
def test_a_coding_sequence_is_translated_and_said_so(kind):
    protein = t.sequence("P01308")
    cds = _cds(protein) if kind == "dna" else _cds(protein).replace("T", "U")
    at = t.app()
    at.run()
    t.predict(at, f">insulin_cds\n{cds}\n")
    t.assert_clean(at)
    notes = [t.md_unescape(i.value) for i in at.info]
    assert any("translated to 110 residues" in n for n in notes), notes
    assert at.session_state["queries"] == [("insulin_cds", protein)]


def test_nucleotide_text_that_is_not_a_cds_is_refused():
    at = t.app()
    at.run()
    t.predict(at, "ATGAAATAGGCTGCTGCTGCTGCTGCTGCTGCTGCTGCTGCTGCT\n")  # internal stop codon
    errors = t.messages(at)["error"]
    assert len(errors) == 1 and "internal stop codon at codon 3" in errors[0]
    assert at.session_state["predictions"] is None


def test_paste_and_upload_asks_which_to_use():
    at = t.app()
    at.run()
    at.text_area(key="w_sequence_text").input(t.fasta_record("P01308"))
    at.get("file_uploader")[0].upload("tp53.fasta", t.fasta_record("P04637").encode()).run()
    choice = at.radio(key="input_choice")
    assert choice.value is None and len(choice.options) == 2
    at.button(key="predict_button").click().run()
    errors = t.messages(at)["error"]
    assert len(errors) == 1 and "choose which to use" in errors[0]
    choice = at.radio(key="input_choice")
    choice.set_value(choice.options[1]).run()  # the uploaded file
    at.button(key="predict_button").click().run()
    t.assert_clean(at)
    assert [r[0] for r in at.session_state["queries"]] == ["TP53 (P04637)"]
    choice.set_value(choice.options[0]).run()  # the pasted text
    at.button(key="predict_button").click().run()
    assert [r[0] for r in at.session_state["queries"]] == ["INS (P01308)"]


def test_example_button_fills_a_well_known_protein():
    at = t.app()
    at.run()
    at.button(key="example_button").click().run()
    text = at.text_area(key="w_sequence_text").value
    assert text.startswith(">sp|P04637|P53_HUMAN") and "GN=TP53" in text
    at.button(key="predict_button").click().run()
    t.assert_clean(at)
    assert "TP53" in at.subheader[0].value
    # the limits are stated before anyone hits them
    assert any("Limits" in c.value and "5,000" in t.md_unescape(c.value) for c in at.caption)


def test_a_protein_without_homologs_is_flagged_as_near_the_prior():
    import random

    rng = random.Random(7)  # a made-up protein: no DIAMOND hit in either species
    seq = "M" + "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(240))
    at = t.app()
    at.run()
    t.predict(at, f">made_up\n{seq}\n")
    t.assert_clean(at)
    infos = [t.md_unescape(i.value) for i in at.info]
    assert any("No homolog" in i and "prior" in i for i in infos), infos
    assert not at.warning


def _reload(params: dict, page: str | None = None):
    """A new session (a browser reload) with the URL's query parameters."""
    at = t.app()
    for key, value in params.items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    at.run()
    return at


def test_url_round_trip_restores_the_results_and_the_explained_phenotype():
    at = t.app()
    at.run()
    t.predict(at, t.fasta_record("P01308"))
    first = t.table(at, "rank", "term_name", "prior")
    params = dict(at.query_params)
    from dashboard import models

    assert params["model"] == models.default_model_name() and params["q"].startswith(">sp|P01308|")
    again = _reload(params)
    t.assert_clean(again)
    assert again.text_area(key="w_sequence_text").value == t.fasta_record("P01308")
    pd.testing.assert_frame_equal(first, t.table(again, "rank", "term_name", "prior"))
    # the Explain page: the protein and phenotype chosen there come back after a reload
    again.switch_page("dashboard/pages/explain.py").run()
    box = again.selectbox(key="w_selected_phenotype")
    fourth = re.search(r"\((HP:\d{7})\)", box.options[3]).group(1)  # options are shown as "name (id) — score"
    box.set_value(fourth).run()
    params = dict(again.query_params)
    assert params["term"] == fourth and params["gene"] == "pasted:INS (P01308)"
    explain = _reload(params, "dashboard/pages/explain.py")
    t.assert_clean(explain)
    assert explain.selectbox(key="w_selected_gene").value == "pasted:INS (P01308)"
    assert explain.selectbox(key="w_selected_phenotype").value == params["term"]
    assert not explain.warning


def test_long_input_goes_into_the_url_as_a_hash():
    from dashboard import query

    import genepheno_core as gp

    dmd = gp.load_case_studies().set_index("symbol").at["DMD", "sequence"]  # 3,685 residues
    text = f">dmd\n{dmd}\n"
    assert len(text) > query.MAX_URL_TEXT
    at = t.app()
    at.run()
    t.predict(at, text)
    params = dict(at.query_params)
    assert "q" not in params and len(params["qh"]) == 16
    # a link whose text this server no longer holds: the page says so
    lost = _reload(dict(params, qh="0" * 16))
    assert any("paste the sequence again" in t.md_unescape(w.value) for w in lost.warning)
    assert lost.session_state["predictions"] is None
    unknown = _reload({"model": "no-such-model"})
    assert any("no-such-model" in t.md_unescape(w.value) for w in unknown.warning)


def test_a_link_naming_the_go_transfer_sibling_opens_its_base_model():
    """An older link names the sibling (it was offered in the picker): it opens the model whose
    proteins without GO it scores, and the pasted protein is scored by the sibling again."""
    from dashboard import models

    base = models.default_model_name()
    sibling = models.no_go_sibling(base)
    if sibling is None:
        pytest.skip(f"no {base}-go-transfer model shipped")
    at = _reload({"model": sibling, "q": t.fasta_record("P01308")})
    t.assert_clean(at)
    assert not [w.value for w in at.warning if "names a model" in w.value]  # not an unknown model
    assert at.session_state["model_name"] == base and dict(at.query_params)["model"] == base
    assert at.session_state["predictions_scorer"] == sibling
