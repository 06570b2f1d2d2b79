"""`genepheno data ...` in-process: build, stats, list, fetch and their errors."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from genepheno_core.cli import main


def test_build_stats_list(fixture_inputs, tmp_path, capsys):
    out = tmp_path / "hpo-art"
    assert main(["data", "build", "hpo", "--min-genes", "2", "--no-homology", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "genes              4" in text and "terms              4" in text
    assert (out / "manifest.json").is_file()
    # a second build without --force does nothing
    assert main(["data", "build", "hpo", "--out", str(out)]) == 0
    assert "already built" in capsys.readouterr().out
    assert main(["data", "stats", str(out), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["annotations"] == 11 and stats["genes_with_go"] == 3
    if shutil.which("diamond"):
        # not in the manifest: computed, one summary per part of the random split
        similarity = stats["residual_similarity"]["random"]
        assert [similarity[p]["n"] for p in ("valid", "test")] == [stats["splits"]["random"][p] for p in ("valid", "test")]
    # options reach the config
    assert main(["data", "build", "hpo", "--min-genes", "3", "--drop-imp-igi", "--evidence", "ida", "hda",
                 "--no-homology", "--force", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["min_genes"] == 3
    assert manifest["config"]["evidence_codes"] == ["HDA", "IDA"]
    assert manifest["counts"]["terms"] == 3
    capsys.readouterr()
    # default location + list
    assert main(["data", "build", "mpo", "--min-genes", "2", "--no-homology"]) == 0
    capsys.readouterr()
    assert main(["data", "list"]) == 0
    rows = {line.split("\t")[0]: line.split("\t") for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["mpo"][1:4] == ["built", "3", "4"]
    assert rows["gwas"][1] == "not built"
    assert main(["data", "stats", "mpo"]) == 0
    assert "genes              3" in capsys.readouterr().out


def test_errors_are_messages_not_tracebacks(fixture_inputs, capsys):
    assert main(["data", "stats", "hpo"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "genepheno data build hpo" in err
    assert main(["data", "fetch", "nosuchsource"]) == 1
    assert "unknown source" in capsys.readouterr().err
    assert main(["data", "build", "hpo", "--min-genes", "0", "--no-homology"]) == 1
    assert "min_genes" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["data", "build", "cafa9"])


@pytest.mark.integration
@pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")
def test_fetch_from_mirror(capsys):
    assert main(["data", "fetch", "efo", "--no-progress"]) == 0
    line = capsys.readouterr().out.strip()
    source, release, filename, path = line.split("\t")
    assert (source, release, filename) == ("efo", "3.90.0", "EFO-ontology-v3.90.0.json.zst")
    assert path.startswith(os.environ["GENEPHENO_MIRROR"])


def test_cli_dataset_names_match_the_builders():
    from genepheno_core.cli import data
    from genepheno_core.datasets import DATASET_NAMES

    assert tuple(data._NAMES) == tuple(DATASET_NAMES)


def test_stats_residual_similarity(fixture_inputs, tmp_path, capsys, monkeypatch):
    from genepheno_core.datasets import stats as stats_module
    from genepheno_core.errors import MissingDataError

    out = tmp_path / "hpo-art"
    assert main(["data", "build", "hpo", "--min-genes", "2", "--no-homology", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["data", "stats", str(out), "--no-similarity", "--json"]) == 0
    assert "residual_similarity" not in json.loads(capsys.readouterr().out)
    # stored by the builder: printed as stored, per split column and part
    manifest = json.loads((out / "manifest.json").read_text())
    part = {"n": 7, "with_hit": 0.5, "linked": 0.25, "best_identity": {"q50": 0.3, "q90": 0.6, "q99": 0.9, "q100": 1.0},
            "median_length_of_best": 90.0}
    manifest["residual_similarity"] = {"random": {"rule": {"min_identity": 0.3, "min_length": 50},
                                                  "valid": part, "test": part}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main(["data", "stats", str(out), "--no-similarity"]) == 0
    text = capsys.readouterr().out
    assert "residual similarity to training" in text
    assert "  random       test        7    50.0%   25.0%   30.0%  60.0% 100.0%" in text
    # not stored and no DIAMOND: the counts still print, with a warning
    del manifest["residual_similarity"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    def no_diamond(*args, **kwargs):
        raise MissingDataError("the `diamond` executable is not installed")

    # (the fixture's 4 genes leave valid and test empty, so the real search would not run)
    monkeypatch.setattr(stats_module, "residual_similarity", no_diamond)
    assert main(["data", "stats", str(out)]) == 0
    captured = capsys.readouterr()
    assert "genes              4" in captured.out and "residual similarity" not in captured.out
    assert "diamond" in captured.err
