"""`genepheno data ...` in-process: build, stats, list, fetch and their errors."""

from __future__ import annotations

import json
import os

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
