"""The CLI-level bad-input sweep of issue 14 (ambiguous input, short / ambiguous sequences,
unknown GO ids, meaningless evaluations, damaged models, residue limits).

Each case runs `genepheno ...` in process through `cli.main(argv)` and checks the exit
code, a one-line `error:` message naming the file / record and the problem, and that no
traceback is printed. The toy model of tests/_interpret_toy.py is copied before damaging it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from _interpret_toy import toy_genes
from genepheno_core.cli import main

EVAL = Path(__file__).parent / "data" / "evaluation"
PEPTIDE = "MKVLAAGIVGLLLAQPSHAEG"  # 21 residues


pytestmark = pytest.mark.usefixtures("toy_home")  # GENEPHENO_HOME for the toy model (conftest.py)


def _damaged(model, tmp_path, damage) -> Path:
    copy = tmp_path / "damaged_model"
    shutil.copytree(model.path, copy)
    damage(copy)
    return copy


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


# case -> (argv with placeholders, files to write {name: text}, damage of a model copy or None,
#          texts the one error line must contain)
CASES = {
    "a: unknown gene symbol (typo)": (
        ["explain", "--model", "MODEL", "TYPO"], {}, None, ["unknown gene 'TYPO'", "did you mean SYMBOL"]),
    "a: gene and --sequence together": (
        ["explain", "--model", "MODEL", "SYMBOL", "--sequence", PEPTIDE], {}, None, ["one protein", "not both"]),
    "b: 1-residue sequence": (
        ["predict", "--model", "MODEL", "DIR/one.fa"], {"one.fa": f">ok\n{PEPTIDE}\n>tiny\nM\n"}, None,
        ["one.fa, record 'tiny'", "1 residue long; the minimum is 20"]),
    "b: all-X sequence": (
        ["predict", "--model", "MODEL", "DIR/x.fa"], {"x.fa": ">unknown\n" + "X" * 60 + "\n"}, None,
        ["x.fa, record 'unknown'", "60 of 60 residues are unknown"]),
    "b: short raw sequence for explain": (
        ["explain", "--model", "MODEL", "--sequence", "MKV"], {}, None, ["record 'query'", "3 residues long"]),
    "b: zero sequences": (
        ["predict", "--model", "MODEL", "DIR/empty.fa"], {"empty.fa": "\n\n"}, None, ["empty.fa", "no sequences"]),
    "c: malformed GO id": (
        ["explain", "--model", "MODEL", "SYMBOL", "--go", "GO:123,GO:0005634"], {}, None, ["not a GO id: GO:123"]),
    "d: empty prediction file": (
        ["evaluate", "DIR/empty.tsv", str(EVAL / "truth.tsv"), "--ontology", str(EVAL / "tiny_hp.obo")],
        {"empty.tsv": "AUTHOR\tx\nEND\n"}, None, ["empty.tsv: no predictions"]),
    "d: predictions for no truth gene": (
        ["evaluate", "DIR/other.tsv", str(EVAL / "truth.tsv"), "--ontology", str(EVAL / "tiny_hp.obo")],
        {"other.tsv": "X1\tHP:0001250\t0.9\n"}, None, ["other.tsv: no prediction for any of the 3 truth genes"]),
    "e: truncated model.safetensors": (
        ["predict", "--model", "MODEL", "DIR/q.fa"], {"q.fa": f">q\n{PEPTIDE}\n"},
        lambda ck: _truncate(ck / "model.safetensors"), ["model.safetensors: corrupt or truncated"]),
    "e: broken config.json": (
        ["explain", "--model", "MODEL", "SYMBOL"], {}, lambda ck: (ck / "config.json").write_text("{\"kind\": "),
        ["config.json: not valid JSON"]),
    "e: missing terms.tsv": (
        ["predict", "--model", "MODEL", "DIR/q.fa"], {"q.fa": f">q\n{PEPTIDE}\n"},
        lambda ck: (ck / "terms.tsv").unlink(), ["terms.tsv: missing file"]),
    "e: corrupt explain/term_ancestors.npz": (
        ["predict", "--model", "MODEL", "DIR/q.fa"], {"q.fa": f">q\n{PEPTIDE}\n"},
        lambda ck: _truncate(ck / "explain" / "term_ancestors.npz"), ["term_ancestors.npz: corrupt or truncated"]),
    "f: residue attributions over the limit": (
        ["explain", "--model", "MODEL", "SYMBOL", "--residues", "DIR/res.tsv", "--max-residues", "30"], {}, None,
        ["residue attributions are limited to 30", "--max-residues"]),
}


SLOW_CASES = {"f: residue attributions over the limit"}  # > 2 s: residue IG through UniRep


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW_CASES else c for c in CASES])
def test_bad_input_is_one_clear_error(model, tmp_path, capsys, case):
    argv, files, damage, expected = CASES[case]
    genes = toy_genes()
    symbol = str(genes["symbol"][0])
    typo = symbol[:-2] + symbol[-1] + symbol[-2]
    model_dir = _damaged(model, tmp_path, damage) if damage else model.path
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    subst = {"MODEL": str(model_dir), "SYMBOL": symbol, "TYPO": typo}
    argv = [subst.get(a, a).replace("DIR/", f"{tmp_path}/") for a in argv]
    expected = [e.replace("SYMBOL", symbol).replace("TYPO", typo) for e in expected]
    assert main(argv) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert all(e in errors[0] for e in expected), errors[0]
    assert "Traceback" not in err
    assert not (tmp_path / "res.tsv").exists()


def test_unknown_go_ids_are_reported_not_hidden(model, capsys):
    symbol = str(toy_genes()["symbol"][0])
    argv = ["explain", "--model", str(model.path), symbol, "--go", "GO:0005634,GO:9999999", "--top", "1"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "GO annotations given: 2, used: 1 (unknown: GO:9999999)" in captured.out
    assert "WARNING" in captured.err and "GO:9999999" in captured.err


def test_truncated_ontology_is_warned_about(tmp_path, capsys):
    head, *stanzas = (EVAL / "tiny_hp.obo").read_text().split("[Term]")
    drop = ("HP:0001250", "HP:0000007", "HP:0000009")
    obo = tmp_path / "third.obo"
    obo.write_text(head + "".join("[Term]" + s for s in stanzas if not any(f"id: {t}\n" in s for t in drop)))
    argv = ["evaluate", str(EVAL / "predictions.tsv"), str(EVAL / "truth.tsv"), "--ontology", str(obo)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "warning: 3 of 4 truth annotations (75%) use terms missing from the ontology" in out


def test_duplicate_ids_warn_and_keep_every_record(model, tmp_path, capsys):
    fasta = tmp_path / "dup.fa"
    fasta.write_text(f">a\n{PEPTIDE}\n>a\n{PEPTIDE[::-1]}\n")
    assert main(["predict", "--model", str(model.path), str(fasta), "--top", "1", "--concepts", "0"]) == 0
    captured = capsys.readouterr()
    assert [line.split("\t")[0] for line in captured.out.splitlines()[1:]] == ["a", "a_2"]
    assert "duplicate id 'a'" in captured.err


def test_min_length_option_lets_a_deliberate_peptide_through(model, tmp_path, capsys):
    fasta = tmp_path / "pep.fa"
    fasta.write_text(">pep\nMKVLAAGIVG\n")
    assert main(["predict", "--model", str(model.path), str(fasta), "--top", "1", "--min-length", "5"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("pep\t")


@pytest.mark.slow
def test_damaged_model_through_python_m(model, tmp_path):
    damaged = _damaged(model, tmp_path, lambda ck: _truncate(ck / "model.safetensors"))
    fasta = tmp_path / "q.fa"
    fasta.write_text(f">q\n{PEPTIDE}\n")
    run = subprocess.run([sys.executable, "-m", "genepheno_core", "predict", "--model", str(damaged), str(fasta)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1].startswith(f"error: {damaged / 'model.safetensors'}: corrupt")
    assert "Traceback" not in run.stderr
