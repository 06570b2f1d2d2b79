"""genepheno_core.benchmark.tables: number formatting, the summary and every table on a
hand-made per-cell DataFrame (the expected numbers are computed by hand in the comments)."""

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest

from genepheno_core.benchmark.tables import (
    leakage_drops,
    paired_difference,
    pasted_choice,
    pct,
    render_markdown,
    summarize,
    vocabulary,
    write_tables,
)


def test_pct_and_empty_markdown():
    assert pct(0.31144, 0.0042) == "31.14 ± 0.42"
    assert pct(0.5, float("nan")) == "50.00"
    assert pct(float("nan")) == "-"
    assert "No finished cells" in render_markdown(pd.DataFrame())


def _cell(dataset, method, seed, fmax, split="random", **metrics):
    return {"dataset": dataset, "split": split, "method": method, "seed": seed, "encoder": "unirep256",
            "fmax": fmax, "auc": metrics.pop("auc", 0.5), **metrics}


# v2 metrics of the hpo cells: (wfmax, smin, top10_ic, top10_precision, excl_rate_pred, excl_rate_true)
_V2 = {
    ("naive", 0): (0.15, 130.0, 0.5, 0.60, 0.012, 0.006),
    ("naive", 1): (0.15, 130.0, 0.5, 0.60, 0.012, 0.006),
    ("go-mlp", 0): (0.20, 125.0, 1.0, 0.62, 0.010, 0.006),
    ("go-mlp", 1): (0.22, 125.0, 1.2, 0.62, 0.010, 0.006),
    ("genepheno", 0): (0.25, 120.0, 2.5, 0.66, 0.004, 0.006),
    ("genepheno", 1): (0.27, 122.0, 2.7, 0.70, 0.004, 0.006),
}


def toy_cells(*, with_v2: bool = True) -> pd.DataFrame:
    """Two seeds of naive, go-mlp and genepheno on hpo, gwas and mpo (random split), the
    mpo leakage check, the input-variant rows and one ablation."""
    rows = []
    hpo_fmax = {"naive": (0.30, 0.30), "go-mlp": (0.34, 0.36), "genepheno": (0.40, 0.44)}
    hpo_auc = {"naive": (0.5, 0.5), "go-mlp": (0.70, 0.72), "genepheno": (0.74, 0.76)}
    for method, values in hpo_fmax.items():
        for seed in (0, 1):
            extra = {"n_terms": 4515, "terms_not_in_train": 395, "n_test_genes": 498}
            if with_v2:
                wf, smin, ic, prec, pred, true = _V2[(method, seed)]
                extra.update(wfmax=wf, smin=smin, top10_ic=ic, top10_precision=prec, excl_rate_pred=pred,
                             excl_rate_true=true, novel_fmax=values[seed] - 0.05, novel_auc=0.6,
                             novel_wfmax=wf - 0.05, novel_top10_ic=ic - 0.1, novel_top10_precision=0.5,
                             novel_n_genes=96)
            rows.append(_cell("hpo", method, seed, values[seed], auc=hpo_auc[method][seed], **extra))
    # input variants: no GO, the pasted protein (the go-transfer model) and the own-GO model fed
    # transferred GO on both seeds, sequence only on a seed naive does not have
    rows += [_cell("hpo", "genepheno-no-go", s, f) for s, f in ((0, 0.38), (1, 0.38))]
    rows += [_cell("hpo", "genepheno-go-transfer", s, f) for s, f in ((0, 0.40), (1, 0.40))]
    rows += [_cell("hpo", "genepheno-pasted", s, f) for s, f in ((0, 0.39), (1, 0.41))]
    rows.append(_cell("hpo", "genepheno-seq-only", 2, 0.33))
    rows += [_cell("hpo", "genepheno-bce", s, 0.41) for s in (0, 1)]
    # gwas: genepheno 0.104 / 0.106 against naive 0.10: +0.40 and +0.60 points
    rows += [_cell("gwas", "naive", s, 0.10) for s in (0, 1)]
    rows += [_cell("gwas", "genepheno", s, f, auc=0.56) for s, f in ((0, 0.104), (1, 0.106))]
    # leakage check: go-mlp mpo 0.35 / 0.34, mpo-no-imp-igi 0.30 / 0.31: drops 5 and 3 points
    for dataset, go_mlp in (("mpo", (0.35, 0.34)), ("mpo-no-imp-igi", (0.30, 0.31))):
        for seed in (0, 1):
            rows.append(_cell(dataset, "naive", seed, 0.27))
            rows.append(_cell(dataset, "go-mlp", seed, go_mlp[seed], auc=0.78 if dataset == "mpo" else 0.70))
    rows += [_cell("mpo", "genepheno", s, 0.36) for s in (0, 1)]  # not in the check: not in its table
    return pd.DataFrame(rows)


def section(markdown: str, prefix: str) -> str:
    """The text of the level-2 section whose title starts with `prefix` (title line included)."""
    start = markdown.index(f"## {prefix}")
    end = markdown.find("\n## ", start + 1)
    return markdown[start:] if end < 0 else markdown[start:end]


def subsection(text: str, title: str) -> str:
    start = text.index(f"### {title}")
    end = text.find("\n### ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def table_row(text: str, name: str) -> list[str]:
    """The cells of the Markdown table row named `name` (first column)."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == name:
            return cells[1:]
    raise AssertionError(f"no row {name!r} in:\n{text}")


def test_paired_difference_per_seed_else_on_means():
    a = pd.Series({0: 0.34, 1: 0.36})
    b = pd.Series({0: 0.30, 1: 0.30, 2: 0.30})
    d = paired_difference(a, b)
    assert d["paired"] and d["n_pairs"] == 2
    assert d["mean"] == pytest.approx(0.05) and d["sd"] == pytest.approx(math.sqrt(2) * 0.01)
    d = paired_difference(pd.Series({2: 0.33}), pd.Series({0: 0.30, 1: 0.32}))
    assert not d["paired"] and d["mean"] == pytest.approx(0.33 - 0.31) and np.isnan(d["sd"])
    assert np.isnan(paired_difference(pd.Series(dtype=float), b)["mean"])


def test_summary_has_fmax_minus_naive():
    s = summarize(toy_cells()).set_index(["dataset", "split", "method"])
    go = s.loc[("hpo", "random", "go-mlp")]
    # seeds: 0.34 - 0.30, 0.36 - 0.30 -> 0.05 ± sd(0.04, 0.06)
    assert go.fmax_minus_naive_mean == pytest.approx(0.05)
    assert go.fmax_minus_naive_sd == pytest.approx(math.sqrt(2) * 0.01)
    assert bool(go.fmax_minus_naive_paired)
    seq = s.loc[("hpo", "random", "genepheno-seq-only")]
    assert seq.fmax_minus_naive_mean == pytest.approx(0.03) and not bool(seq.fmax_minus_naive_paired)
    assert s.loc[("hpo", "random", "genepheno"), "top10_ic_mean"] == pytest.approx(2.6)


def test_main_tables_label_the_input_variants_and_keep_ablations_apart():
    md = render_markdown(toy_cells(), negative_controls=())
    main = section(md, "Main table: random split")
    # genepheno 0.40 / 0.44 -> 42.00 ± 2.83 (sd of 40, 44), the best Fmax of the hpo column
    assert main.splitlines()[4].startswith("| method | hpo (random) |")
    assert table_row(main, "genepheno")[0] == "**42.00 ± 2.83** / **75.00 ± 1.41**"
    assert table_row(main, "genepheno (no GO input)")[0] == "38.00 ± 0.00 / 50.00 ± 0.00"
    assert table_row(main, "genepheno (pasted protein)")[0] == "40.00 ± 0.00 / 50.00 ± 0.00"
    assert table_row(main, "genepheno (own-GO model, GO from homologs)")[0] == "40.00 ± 1.41 / 50.00 ± 0.00"
    rows = [line.split("|")[1].strip() for line in main.splitlines() if line.startswith("| genepheno")]
    assert rows.index("genepheno (pasted protein)") < rows.index("genepheno (own-GO model, GO from homologs)")
    # one seed where the column's other rows have two: marked, and never bold
    assert table_row(main, "genepheno (sequence only)")[0] == "33.00 / 50.00 (1 of 2 seeds)"
    assert "genepheno-bce" not in main and "| genepheno-no-go" not in main
    assert "`genepheno-no-go`" in main  # the note says which cell the label is
    assert "genepheno (pasted protein) is `genepheno-go-transfer` (trained and scored on GO transferred from " \
           "sequence homologs), trained for that input; what the tool scores a protein given without GO with" in main
    assert "`genepheno-pasted` (GO transferred from sequence homologs at prediction time, not the gene's own), " \
           "scored from the same trained `genepheno` model" in main
    assert "`genepheno-no-go` (without the GO input), trained for that input" in main
    ablations = section(md, "Ablations")
    assert "| genepheno-bce |" in ablations and "| genepheno-no-go |" in ablations
    assert "mpo-no-imp-igi" not in main and "mpo-no-imp-igi" not in ablations


def test_gwas_leaves_the_main_tables_only_as_a_negative_control():
    kept = render_markdown(toy_cells(), negative_controls=())
    assert "gwas (random)" in section(kept, "Main table: random split")
    assert "## Negative control" not in kept
    md = render_markdown(toy_cells(), negative_controls=("gwas",))
    main = section(md, "Main table: random split")
    assert "gwas" not in main and "hpo (random)" in main
    control = section(md, "Negative control: gwas")
    assert "gwas (random) Fmax − naive" in control
    # genepheno - naive per seed: +0.40, +0.60 -> +0.50 ± 0.14 points
    assert table_row(control, "genepheno") == ["**10.50 ± 0.14** / **56.00 ± 0.00**", "+0.50 ± 0.14"]
    assert table_row(control, "naive")[1] == "+0.00 ± 0.00"


def test_specific_phenotypes_table():
    md = render_markdown(toy_cells(), negative_controls=())
    table = subsection(section(md, "Specific phenotypes"), "hpo, random split")
    genepheno = table_row(table, "genepheno")
    # Fmax, wFmax 26.00 ± 1.41, Smin 121 ± 1.41 (the lowest: bold), Fmax − naive +12 ± 2.83,
    # top-10 IC 2.60 ± 0.14 bits (not a percent), precision 68 ± 2.83, exclusion rates 0.4 % / 0.6 %
    assert genepheno == ["**42.00 ± 2.83**", "**26.00 ± 1.41**", "**121.00 ± 1.41**", "**+12.00 ± 2.83**",
                         "**2.60 ± 0.14**", "**68.00 ± 2.83**", "0.400", "0.600"]
    naive = table_row(table, "naive")
    assert naive[2] == "130.00 ± 0.00" and naive[6] == "1.200"  # highest both-predicted rate: never bold
    assert table_row(table, "genepheno-seq-only (sequence only)")[3] == "+3.00†"  # no seed in common with naive
    assert table_row(table, "genepheno-no-go (no GO input)")[3] == "+8.00 ± 0.00"
    assert table_row(table, "genepheno-pasted (own-GO model, GO from homologs)")[3] == "+10.00 ± 1.41"
    assert table_row(table, "genepheno-go-transfer (pasted protein)")[3] == "+10.00 ± 0.00"


def test_novel_proteins_table_has_the_gene_count():
    md = render_markdown(toy_cells(), negative_controls=())
    table = subsection(section(md, "Novel proteins"), "hpo, random split")
    # novel Fmax = Fmax - 0.05: 37.00 ± 2.83; novel top-10 IC = IC - 0.1: 2.50 ± 0.14
    assert table_row(table, "genepheno") == ["96", "**37.00 ± 2.83**", "**60.00 ± 0.00**", "**21.00 ± 1.41**",
                                             "**2.50 ± 0.14**", "**50.00 ± 0.00**"]
    assert "genepheno-bce" not in table  # no novel-protein metrics in its cells


def test_leakage_check_drop_for_methods_on_both_datasets():
    cells = toy_cells()
    drops = leakage_drops(cells).set_index("method")
    assert sorted(drops.index) == ["go-mlp", "naive"]  # genepheno has no mpo-no-imp-igi cell
    # go-mlp 0.35 - 0.30, 0.34 - 0.31 -> 0.04 ± sd(0.05, 0.03)
    assert drops.loc["go-mlp", "fmax_drop_mean"] == pytest.approx(0.04)
    assert drops.loc["go-mlp", "fmax_drop_sd"] == pytest.approx(math.sqrt(2) * 0.01)
    md = render_markdown(cells, negative_controls=())
    table = section(md, "Leakage check: mpo")
    assert table_row(table, "go-mlp") == ["yes", "34.50 ± 0.71 / 78.00 ± 0.00", "30.50 ± 0.71 / 70.00 ± 0.00",
                                          "+4.00 ± 1.41", "+8.00 ± 0.00"]
    assert table_row(table, "naive")[0] == "no" and "genepheno" not in table
    assert "Leakage check: hpo" not in md  # no hpo-no-imp-igi cells
    # another check mapping: a check dataset without cells gives no section
    assert "Leakage check" not in render_markdown(cells, leakage_checks={"hpo-no-imp-igi": "hpo"})


def test_vocabulary_table_and_a_difference_between_cells(caplog):
    cells = toy_cells()
    md = render_markdown(cells, negative_controls=())
    assert table_row(section(md, "Vocabulary"), "hpo") == ["random", "4515", "395", "498"]
    cells.loc[cells.index[0], "terms_not_in_train"] = 401
    with caplog.at_level(logging.WARNING, logger="genepheno_core.benchmark.tables"):
        vocab = vocabulary(cells).set_index("dataset")
    assert vocab.loc["hpo", "terms_not_in_train"] == 401 and vocab.loc["hpo", "differs"] == "terms_not_in_train"
    assert "terms_not_in_train differs" in caplog.text
    md = render_markdown(cells, negative_controls=())
    assert table_row(section(md, "Vocabulary"), "hpo") == ["random", "4515", "401 *", "498"]


def test_cells_without_the_v2_metrics_still_render():
    md = render_markdown(toy_cells(with_v2=False), negative_controls=())
    assert "No cell records these metrics yet" in section(md, "Specific phenotypes")
    assert "No cell records these metrics yet" in section(md, "Novel proteins")
    assert "| genepheno | 42.00 ± 2.83 / 75.00 ± 1.41 |" in section(md, "Per frequency bin")
    # old cells: smin and the vocabulary columns are missing or None
    cells = toy_cells(with_v2=False).drop(columns=["terms_not_in_train"])
    cells["smin"] = None
    assert table_row(section(render_markdown(cells), "Vocabulary"), "hpo") == ["random", "4515", "-", "498"]


def test_write_tables_records_the_derived_tables(tmp_path):
    paths = write_tables(toy_cells(), tmp_path, command="cmd")
    payload = json.loads(paths["json"].read_text())
    go = [r for r in payload["summary"] if (r["dataset"], r["method"]) == ("hpo", "go-mlp")][0]
    assert go["fmax_minus_naive_mean"] == pytest.approx(0.05)
    leak = {r["method"]: r for r in payload["leakage"]}
    assert leak["go-mlp"]["check"] == "mpo-no-imp-igi" and leak["go-mlp"]["fmax_drop_mean"] == pytest.approx(0.04)
    vocab = {(r["dataset"], r["split"]): r for r in payload["vocabulary"]}
    assert vocab[("hpo", "random")]["terms_not_in_train"] == 395
    assert "## Specific phenotypes" in paths["md"].read_text()


def _choice_cells(go_transfer_valid=(0.41, 0.43)):
    """hpo random: genepheno-pasted with its own transferred-GO validation on seed 0 only (seed 1
    is an older cell that copied its model's own-GO validation), go-transfer on both seeds."""
    rows = [
        _cell("hpo", "genepheno-pasted", 0, 0.40, auc=0.73, valid_fmax=0.44, valid_auc=0.75,
              valid_inputs="transferred-go"),
        _cell("hpo", "genepheno-pasted", 1, 0.39, auc=0.72, valid_fmax=0.50, valid_auc=0.80, valid_inputs="own"),
    ]
    rows += [_cell("hpo", "genepheno-go-transfer", s, f, auc=a, valid_fmax=v, valid_auc=0.76,
                   valid_inputs="transferred-go")
             for s, f, a, v in ((0, 0.42, 0.74, go_transfer_valid[0]), (1, 0.44, 0.76, go_transfer_valid[1]))]
    rows += [_cell("hpo", "naive", s, 0.30) for s in (0, 1)]
    # mpo: the pasted cells are all older ones: no choice can be made there
    rows += [_cell("mpo", "genepheno-pasted", 0, 0.33, valid_fmax=0.5, valid_auc=0.8, valid_inputs="own"),
             _cell("mpo", "genepheno-go-transfer", 0, 0.34, valid_fmax=0.3, valid_auc=0.7,
                   valid_inputs="transferred-go")]
    return pd.DataFrame(rows)


def test_pasted_choice_is_made_on_validation_with_transferred_go_only():
    choice = pasted_choice(_choice_cells()).set_index(["dataset", "method"])
    pasted, transfer = choice.loc[("hpo", "genepheno-pasted")], choice.loc[("hpo", "genepheno-go-transfer")]
    # pasted: seed 0 only (seed 1's validation was scored with own GO): valid 0.44 / 0.75, test 0.40 / 0.73
    assert (pasted.n_seeds, pasted.valid_fmax, pasted.valid_auc, pasted.fmax, pasted.auc) == (1, 0.44, 0.75, 0.40, 0.73)
    # go-transfer: both seeds, valid Fmax (0.41 + 0.43) / 2 = 0.42, test (0.42 + 0.44) / 2 = 0.43
    assert transfer.n_seeds == 2
    assert transfer.valid_fmax == pytest.approx(0.42) and transfer.fmax == pytest.approx(0.43)
    # 0.44 > 0.42 on validation: the pasted variant, although go-transfer is higher on test
    assert pasted.chosen == transfer.chosen == "genepheno-pasted"
    # the own-GO validation of pasted seed 1 (0.50) would have decided nothing either way, and
    # mpo, whose pasted cells all lack it, gets no choice
    assert choice.loc[("mpo", "genepheno-pasted")].n_seeds == 0
    assert pd.isna(choice.loc[("mpo", "genepheno-go-transfer")].chosen)
    # go-transfer higher on validation: it is chosen
    other = pasted_choice(_choice_cells(go_transfer_valid=(0.45, 0.47)))
    assert set(other[other.dataset == "hpo"].chosen) == {"genepheno-go-transfer"}


def test_pasted_choice_section_in_markdown():
    text = section(render_markdown(_choice_cells()), "A protein without GO")
    hpo = next(line for line in text.splitlines() if line.startswith("| hpo "))
    assert "44.00 / 75.00; 40.00 / 73.00 (1)" in hpo and "42.00 / 76.00; 43.00 / 75.00 (2)" in hpo
    assert hpo.rstrip(" |").endswith("genepheno-pasted")
    mpo = next(line for line in text.splitlines() if line.startswith("| mpo "))
    assert "no validation with transferred GO yet" in mpo and mpo.rstrip(" |").endswith("-")
    # no candidate cells: no section
    assert "## A protein without GO" not in render_markdown(toy_cells())


def test_evidence_table_shows_the_grouped_share_only_when_cells_have_it():
    cells = toy_cells()
    hpo = (cells["dataset"] == "hpo") & (cells["method"] == "genepheno")
    cells.loc[hpo, "evidence_concentration"] = [0.50, 0.54]
    md = render_markdown(cells, negative_controls=())
    table = subsection(section(md, "Evidence quality"), "hpo, random split")
    assert "by most specific term" not in table  # older cells: no column of dashes
    assert table_row(table, "genepheno")[2] == "**52.00 ± 2.83**"
    cells.loc[hpo, "evidence_concentration_grouped"] = [0.64, 0.66]
    table = subsection(section(render_markdown(cells, negative_controls=()), "Evidence quality"), "hpo, random split")
    assert "top-10 share, by most specific term %" in table
    assert table_row(table, "genepheno")[2:4] == ["**52.00 ± 2.83**", "**65.00 ± 1.41**"]


def test_pasted_choice_includes_the_neighbour_model_where_it_was_computed():
    cells = _choice_cells()
    extra = pd.DataFrame([_cell("hpo", "genepheno-go-neighbours", s, f, auc=0.77, valid_fmax=v, valid_auc=0.78,
                                valid_inputs="transferred-go")
                          for s, f, v in ((0, 0.43, 0.45), (1, 0.45, 0.47))])
    choice = pasted_choice(pd.concat([cells, extra], ignore_index=True)).set_index(["dataset", "method"])
    neighbours = choice.loc[("hpo", "genepheno-go-neighbours")]
    assert neighbours.n_seeds == 2 and neighbours.valid_fmax == pytest.approx(0.46)
    # 0.46 > 0.44 (pasted) > 0.42 (go-transfer) on validation
    assert set(choice.loc["hpo"].chosen) == {"genepheno-go-neighbours"}
    # mpo has no neighbour cells: its two candidates are compared as before
    assert ("mpo", "genepheno-go-neighbours") not in choice.index
    hpo = next(line for line in section(render_markdown(pd.concat([cells, extra], ignore_index=True)),
                                        "A protein without GO").splitlines() if line.startswith("| hpo "))
    assert hpo.rstrip(" |").endswith("genepheno-go-neighbours") and "46.00 / 78.00; 44.00 / 77.00 (2)" in hpo
    mpo = next(line for line in section(render_markdown(pd.concat([cells, extra], ignore_index=True)),
                                        "A protein without GO").splitlines() if line.startswith("| mpo "))
    assert "not computed" in mpo
