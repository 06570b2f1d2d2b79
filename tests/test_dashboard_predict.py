"""AppTest of the Predict page on the shipped default model with real human proteins."""

from __future__ import annotations

import io
import json
import gzip
import os

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


def test_ranked_table_chart_and_downloads(predicted):
    at = predicted
    t.assert_clean(at)
    table = t.table(at, "rank", "term_name", "score")
    assert list(table.columns) == ["rank", "score", "term_name", "above_threshold", "term_id"]
    assert len(table) == 20  # default top N
    assert list(table["rank"]) == list(range(1, 21))
    assert table["score"].is_monotonic_decreasing
    assert table["score"].between(0, 1).all()
    assert table["term_name"].str.len().min() > 0  # readable names, not only ids
    assert table["term_id"].str.match(r"^HP:\d{7}$").all()
    # the page shows exactly what the core's predict() returns for this protein
    import genepheno_core as gp
    from dashboard import models

    model = models.get_model(models.default_model_name())
    core = gp.predict(model, [("P05155", t.sequence("P05155"))], top=20)
    assert list(core["term_id"]) == list(table["term_id"])
    pd.testing.assert_series_equal(core["score"].reset_index(drop=True), table["score"].reset_index(drop=True),
                                   check_names=False, rtol=1e-6)
    above = table["score"] >= model.threshold
    assert list(table["above_threshold"]) == list(above)
    # bar chart of the same terms, labelled by name
    specs = t.plotly_specs(at)
    assert specs and specs[0]["data"][0]["type"] == "bar"
    bar = specs[0]["data"][0]
    assert sorted(bar["x"], reverse=True) == pytest.approx(list(table["score"]))
    assert any(table["term_name"].iloc[0].startswith(label.rstrip("…")) for label in bar["y"])
    labels = t.download_labels(at)
    for label in ("Results CSV", "Results JSON", "PNG", "SVG", "HTML"):
        assert label in labels


def test_nearest_training_proteins(predicted):
    at = predicted
    warnings = [w.value for w in at.warning]
    assert not warnings, warnings
    hits = t.table(at, "accession", "identity")
    assert {"accession", "identity", "phenotypes"} <= set(hits.columns)
    assert hits["identity"].between(0, 100).all()
    # SERPING1 itself is a human disease gene of the hpo training data: top hit, 100 % identity
    assert hits["identity"].max() == pytest.approx(100.0)


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
    box = at.selectbox(key="predict_gene")
    assert box.options == ["P05155", "P04637", "P01308"]
    box.set_value("P01308").run()
    assert "P01308" in at.subheader[0].value
    assert set(t.table(at, "rank", "term_name", "score")["term_id"]) <= set(
        at.session_state["predictions"].query("gene == 'P01308'")["term_id"])
    at.switch_page("dashboard/pages/model.py").run()
    at.switch_page("dashboard/pages/predict.py").run()
    assert at.text_area(key="w_sequence_text").value == text
    assert t.table(at, "rank", "term_name", "score") is not None


def test_threshold_and_top_n_options():
    at = t.app()
    at.run()
    at.checkbox(key="w_use_model_threshold").uncheck().run()
    at.slider(key="w_threshold").set_value(0.0)
    at.number_input(key="w_top_n").set_value(5)
    t.predict(at, t.fasta_record("P01308"))
    t.assert_clean(at)
    table = t.table(at, "rank", "term_name", "score")
    assert len(table) == 5
    assert table["above_threshold"].all()  # threshold 0: everything passes


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
