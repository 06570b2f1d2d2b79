"""`predict` / `explain` subcommands, in process (main(argv)) with capsys."""

from __future__ import annotations

import json

import pytest

from _interpret_toy import toy_genes
from genepheno_core.cli import main


pytestmark = pytest.mark.usefixtures("toy_home")  # GENEPHENO_HOME for the toy model (conftest.py)


@pytest.fixture()
def fasta(tmp_path):
    genes = toy_genes().iloc[:2]
    path = tmp_path / "q.fasta"
    path.write_text("".join(f">sp|{a}|{a}_HUMAN\n{s}\n" for a, s in zip(genes["accession"], genes["sequence"])))
    return path


def test_predict_tsv(model, fasta, capsys):
    assert main(["predict", "--model", str(model.path), str(fasta), "--top", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t") == ["gene", "term_id", "term_name", "score", "above_threshold", "rank", "prior",
                                     "gain", "ic", "folded_under", "top_concepts"]
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) == 6
    assert [r[5] for r in rows] == ["1", "2", "3"] * 2
    assert all(r[1].startswith("HP:") for r in rows)
    assert all(0 < float(r[6]) < 1 and r[7] not in ("", "nan") for r in rows)  # prior and gain
    assert all(r[10] for r in rows)  # top concepts listed


def test_predict_specific_view(model, fasta, capsys):
    assert main(["predict", "--model", str(model.path), str(fasta), "--top", "3", "--view", "specific",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["predictions"]
    shown = [r for r in rows if r["folded_under"] == ""]
    assert [r["rank"] for r in shown] == [1, 2, 3] * 2
    assert len(rows) >= len(shown)
    # the cafa format needs every term: the specific view is refused with a message
    assert main(["predict", "--model", str(model.path), str(fasta), "--view", "specific", "--format", "cafa"]) != 0
    assert "--view specific folds terms" in capsys.readouterr().err


def test_predict_json_and_cafa_to_file(model, fasta, tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["predict", "--model", str(model.path), str(fasta), "--format", "json", "-o", str(out),
                 "--threshold", "0.5"]) == 0
    doc = json.loads(out.read_text())
    assert doc["threshold"] == 0.5 and len(doc["predictions"]) == 20
    assert {"gene", "term_id", "score", "above_threshold", "rank", "top_concepts"} <= set(doc["predictions"][0])
    cafa = tmp_path / "p.tsv"
    assert main(["predict", "--model", str(model.path), str(fasta), "--format", "cafa", "-o", str(cafa), "--top", "2"]) == 0
    lines = cafa.read_text().splitlines()
    assert lines[0] == "AUTHOR\tGenePheno" and lines[-1] == "END" and len(lines) == 4 + 4


def test_a_shipped_name_routes_proteins_without_go_unless_exact_model(routed_models, fasta, tmp_path, capsys):
    """--model NAME: proteins given no GO go to NAME-go-transfer (json "model", explain's first
    lines); --go or --exact-model keep NAME."""
    assert main(["predict", "--model", "toy", str(fasta), "--format", "json", "--top", "2"]) == 0
    routed = json.loads(capsys.readouterr().out)
    assert routed["model"] == "toy-go-transfer"
    assert main(["predict", "--model", "toy", "--exact-model", str(fasta), "--format", "json", "--top", "2"]) == 0
    exact = json.loads(capsys.readouterr().out)
    assert exact["model"] == "toy"
    assert [r["score"] for r in routed["predictions"]] != [r["score"] for r in exact["predictions"]]
    acc = toy_genes()["accession"].iloc[0]
    gaf = tmp_path / "q.gaf"
    gaf.write_text("!gaf-version: 2.1\n" + "\t".join(
        ["UniProtKB", acc, "TST1", "", "GO:0005634", "PMID:1", "IDA", "", "C", "test", "", "protein",
         "taxon:9606", "20190101", "UniProt", "", ""]) + "\n")
    assert main(["predict", "--model", "toy", str(fasta), "--go", str(gaf), "--format", "json", "--top", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "toy"
    seq = toy_genes()["sequence"].iloc[0]
    assert main(["explain", "--model", "toy", "--sequence", seq, "--top", "2"]) == 0
    head = capsys.readouterr().out.splitlines()[:2]
    assert "model toy-go-transfer" in head[0] and head[1].startswith("no GO given: explained by toy-go-transfer")
    assert main(["explain", "--model", "toy", "--exact-model", "--sequence", seq, "--top", "2"]) == 0
    assert "model toy," in capsys.readouterr().out.splitlines()[0]


def test_predict_top_all_cafa_keeps_fmax(model, fasta, tmp_path):
    """--top all writes every term's score; the cafa file's 6 decimals give the Fmax of the
    score matrix itself (to 1e-6), and --top N still limits the rows."""
    import numpy as np

    from genepheno_core.evaluation.cafa_io import read_predictions
    from genepheno_core.evaluation.metrics import evaluate_scores
    from genepheno_core.interpret.inference import parse_records, prepare_inputs, score_matrix

    cafa = tmp_path / "all.tsv"
    assert main(["predict", "--model", str(model.path), str(fasta), "--format", "cafa", "-o", str(cafa),
                 "--top", "all"]) == 0
    df = read_predictions(cafa)
    terms = model.terms["term_id"].tolist()
    records = parse_records(fasta)
    genes = [g for g, _ in records]
    assert len(df) == len(genes) * len(terms)
    assert set(df["term"]) == set(terms) and df["gene"].drop_duplicates().tolist() == genes
    scores = score_matrix(model, prepare_inputs(model, records)).astype(np.float64)
    back = np.zeros_like(scores)
    back[[genes.index(g) for g in df["gene"]], [terms.index(t) for t in df["term"]]] = df["score"]
    assert np.abs(back - scores).max() <= 5e-7
    rng = np.random.default_rng(0)
    y_true = rng.random(scores.shape) < 0.3
    y_true[:, 0] = True
    assert evaluate_scores(y_true, back)["fmax"] == pytest.approx(evaluate_scores(y_true, scores)["fmax"], abs=1e-6)
    top = tmp_path / "top.tsv"
    assert main(["predict", "--model", str(model.path), str(fasta), "--format", "cafa", "-o", str(top),
                 "--top", "3"]) == 0
    assert len(read_predictions(top)) == 3 * len(genes)


def test_predict_top_all_tsv(model, fasta, capsys):
    assert main(["predict", "--model", str(model.path), str(fasta), "--top", "all", "--concepts", "0"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert len(rows) == 2 * len(model.terms)
    assert [r.split("\t")[5] for r in rows[: len(model.terms)]] == [str(i) for i in range(1, len(model.terms) + 1)]


def test_predict_raw_sequence_from_stdin(model, monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(toy_genes()["sequence"][0] + "\n"))
    assert main(["predict", "--model", str(model.path), "-", "--top", "1", "--concepts", "0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].startswith("seq1\tHP:")


def test_explain_text_and_json(model, capsys):
    symbol = toy_genes()["symbol"][0]
    assert main(["explain", "--model", str(model.path), symbol, "--phenotype", "HP:0012638", "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "HP:0012638" in out and "bias" in out and out.count(" x a ") == 2
    assert main(["explain", "--model", str(model.path), symbol, "--format", "json", "--go", "GO:0005634", "--top", "1000"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {e["source"] for e in doc["evidence"]} == {"concept", "GO term"}  # the toy model has W_g
    for t in doc["logit"]:
        # concepts + GO terms + bias is the logit; the concepts alone are not
        total = sum(c["contribution"] for c in doc["evidence"] if c["term_id"] == t)
        assert total + doc["bias"][t] == pytest.approx(doc["logit"][t], abs=1e-5)
        concepts = sum(c["contribution"] for c in doc["contributions"] if c["term_id"] == t)
        assert concepts == pytest.approx(sum(c["contribution"] for c in doc["evidence"]
                                             if c["term_id"] == t and c["source"] == "concept"), abs=1e-9)


def test_explain_writes_the_residue_track(model, tmp_path, capsys):
    seq = toy_genes()["sequence"][6]
    out = tmp_path / "res.tsv"
    assert main(["explain", "--model", str(model.path), "--sequence", seq, "--phenotype", "HP:0012638",
                 "--residues", str(out)]) == 0
    capsys.readouterr()
    header, *rest = out.read_text().splitlines()
    assert header.startswith("#") and "HP:0012638" in header and "completeness gap" in header
    import io

    import pandas as pd

    track = pd.read_csv(io.StringIO("\n".join(rest)), sep="\t")
    assert list(track.columns) == ["position", "residue", "attribution"]
    assert "".join(track["residue"]) == seq
    logit, baseline = (float(header.split(key)[1].split(",")[0]) for key in ("logit ", "baseline "))
    assert track["attribution"].sum() == pytest.approx(logit - baseline, abs=1e-3)


@pytest.mark.parametrize("argv_tail, message", [
    (["explain", "GENE", "--phenotype", "HP:9999999"], "unknown phenotype"),
    (["predict", "EMPTY"], "empty input"),
    (["predict", "MALFORMED"], "MALFORMED"),
    (["predict", "MISSING"], "no such file"),
    (["predict", "FASTA", "--top", "0"], "--top"),
    (["predict", "FASTA", "--top", "many"], "--top must be a number >= 1 or 'all', got 'many'"),
])
def test_bad_input_exits_nonzero(model, tmp_path, fasta, capsys, argv_tail, message):
    (tmp_path / "empty.fa").write_text("")
    (tmp_path / "bad.fa").write_text(">x\nMKV*Q1\n")
    subst = {"GENE": toy_genes()["symbol"][0], "EMPTY": str(tmp_path / "empty.fa"),
             "MALFORMED": str(tmp_path / "bad.fa"), "MISSING": str(tmp_path / "nope.fa"), "FASTA": str(fasta)}
    argv = [argv_tail[0], "--model", str(model.path)] + [subst.get(a, a) for a in argv_tail[1:]]
    if message == "MALFORMED":
        message = "bad.fa"
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_model_mismatch_exits_nonzero(model, tmp_path, fasta, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(model.path, broken)
    cfg = json.loads((broken / "config.json").read_text())
    cfg["encoder"] = "composition"  # the weights expect 64-dim UniRep embeddings
    (broken / "config.json").write_text(json.dumps(cfg))
    assert main(["predict", "--model", str(broken), str(fasta)]) == 1
    assert "composition" in capsys.readouterr().err
    assert main(["predict", "--model", str(tmp_path), str(fasta)]) == 1
    assert "not a GenePheno checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["existing_dir", "existing_dir/", ".", "a_file/out.tsv"])
def test_output_never_replaces_a_directory(model, fasta, tmp_path, capsys, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing_dir").mkdir()
    (tmp_path / "existing_dir" / "keep.txt").write_text("precious")
    (tmp_path / "a_file").write_text("not a directory")
    for argv in (["predict", "--model", str(model.path), str(fasta), "-o", target],
                 ["explain", "--model", str(model.path), str(fasta), "-o", target]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err
    assert (tmp_path / "existing_dir" / "keep.txt").read_text() == "precious"
    assert (tmp_path / "a_file").read_text() == "not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "existing_dir", "q.fasta"]


def test_predict_parquet_in_process_writes_and_resumes(model, tmp_path, capsys):
    import pandas as pd

    seqs = toy_genes()["sequence"].tolist()
    ids = [f"q{i}" for i in range(60)]
    fasta = tmp_path / "many.fasta"
    fasta.write_text("".join(f">{q}\n{seqs[i % len(seqs)]}\n" for i, q in enumerate(ids)))
    argv = ["predict", "--model", str(model.path), str(fasta), "--format", "parquet", "-o", str(tmp_path / "out"),
            "--top", "2", "--no-go-transfer", "--block-size", "51"]
    assert main(argv) == 0
    assert "1 blocks" in capsys.readouterr().out  # 60 proteins: the short tail joins the first block
    frame = pd.read_parquet(tmp_path / "out")
    assert len(frame) == 120 and list(frame["gene"].unique()) == ids
    assert main(argv) == 0
    assert "(0 computed, 1 already there)" in capsys.readouterr().out


@pytest.mark.parametrize("argv_tail, message", [
    (["--engine", "ray"], "--engine ray writes Parquet parts: add --format parquet -o OUT_DIR"),
    (["--format", "parquet"], "--format parquet needs -o OUT_DIR"),
    (["--format", "parquet", "-o", "OUT", "--go", "x.gaf"], "--go is not read with --format parquet"),
    (["--format", "parquet", "-o", "OUT", "--workers", "2"], "--address, --workers and --cpus need --engine ray"),
    (["--format", "parquet", "-o", "OUT", "--engine", "ray", "--cpus", "0"], "--cpus must be >= 1"),
    (["--format", "parquet", "-o", "OUT", "--block-size", "10"], "block size must be >= 51"),
    (["--block-size", "100"], "need --format parquet"),
])
def test_parquet_and_engine_options_are_checked(model, fasta, tmp_path, capsys, argv_tail, message):
    argv = ["predict", "--model", str(model.path), str(fasta)] + [str(tmp_path / "o") if a == "OUT" else a
                                                                  for a in argv_tail]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before anything is written


def test_explain_and_predict_a_checkpoint_with_functional_neighbours(model, tmp_path, capsys):
    """A checkpoint with a go_neighbours/ reference (as `make default-model` ships the
    pasted-protein models): loaded from disk, its explanation lists the neighbours with the
    other evidence, and bias + every contribution is the logit."""
    import shutil

    from _interpret_toy import toy_go_neighbours
    from genepheno_core.training.checkpoint import write_go_neighbours

    path = tmp_path / "toy-neighbours"
    shutil.copytree(model.path, path)
    write_go_neighbours(path / "go_neighbours", toy_go_neighbours(model, n=8, k=5, alpha=0.2, seed=1))
    symbol = toy_genes()["symbol"][0]
    assert main(["explain", "--model", str(path), symbol, "--go", "GO:0005634", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "+ functional neighbours" in out and "and functional neighbours:" in out and "SYM" in out
    assert main(["explain", "--model", str(path), symbol, "--format", "json", "--go", "GO:0005634",
                 "--top", "1000"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["neighbour_alpha"] == 0.2 and len(doc["neighbours"]) == 5
    assert "functional neighbour" in {e["source"] for e in doc["evidence"]}
    for t in doc["logit"]:
        total = sum(c["contribution"] for c in doc["evidence"] if c["term_id"] == t)
        assert total + doc["bias"][t] == pytest.approx(doc["logit"][t], abs=1e-5)
