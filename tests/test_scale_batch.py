"""Batch prediction and embedding in blocks (genepheno_core/scale/batch.py): the FASTA cut into
blocks, both engines (in-process and a real local Ray instance of 2 CPUs) giving identical
scores, resume after a deleted part, a bad record in the middle, runs that must be refused,
and the embedding cache filled by Ray workers."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _scale_fasta import random_records, toy_fasta, write_fasta

from genepheno_core.errors import GenePhenoError, InputFormatError
from genepheno_core.scale.batch import (
    BatchOptions,
    embed_blocks,
    iter_fasta_blocks,
    predict_blocks,
    predict_records,
    read_predictions,
)

# ------------------------------------------------------------------ blocks (no model, no Ray)


@pytest.mark.parametrize("block_size, sizes", [(51, [51, 51, 98]), (60, [60, 60, 80]), (100, [100, 100]),
                                               (149, [149, 51]), (150, [200]), (500, [200])])
def test_blocks_cover_the_file_and_no_block_is_small(tmp_path, block_size, sizes):
    records = random_records(200)
    fasta = write_fasta(tmp_path / "in.fa", records)
    blocks = list(iter_fasta_blocks(fasta, block_size))
    assert [b.n_records for b in blocks] == sizes
    assert [b.index for b in blocks] == list(range(len(sizes)))
    assert "".join(b.text for b in blocks) == fasta.read_text()
    lines = fasta.read_text().splitlines()
    for b in blocks:  # first_line is the file line of the block's first header
        assert lines[b.first_line - 1] == b.text.splitlines()[0]


def test_blocks_read_gzip_and_name_lines(tmp_path):
    records = random_records(120, seed=1)
    plain = write_fasta(tmp_path / "in.fa", records)
    gz = tmp_path / "in.fa.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert [b.text for b in iter_fasta_blocks(gz, 60)] == [b.text for b in iter_fasta_blocks(plain, 60)]
    block = list(iter_fasta_blocks(plain, 60))[1]
    assert plain.read_text().splitlines()[block.line_of("P0070") - 1].startswith(">P0070 ")


@pytest.mark.parametrize("text, problem, line", [
    ("junk\n>a\nMKV\n", "text before the first FASTA header", 1),
    (">a\nMKV\n>b\nMKV\n>a\nMKV\n", "duplicate id (also on line 1)", 5),
    ("\n\n", "no sequences", None),
])
def test_bad_files_are_refused_with_their_line(tmp_path, text, problem, line):
    path = tmp_path / "bad.fa"
    path.write_text(text)
    with pytest.raises(InputFormatError) as err:
        list(iter_fasta_blocks(path, 60))
    assert problem in str(err.value) and str(path) in str(err.value) and err.value.line == line


def test_blocks_of_query_indexed_size_are_refused(tmp_path):
    fasta = write_fasta(tmp_path / "in.fa", random_records(10))
    with pytest.raises(GenePhenoError, match="block size must be >= 51"):
        list(iter_fasta_blocks(fasta, 50))


def test_the_ray_driver_never_imports_torch(tmp_path):
    """`predict --engine ray` in a fresh interpreter, stopped where it would connect to Ray:
    the driver only names the model its workers load, so torch (~2.5 s of Ray's overhead on a
    small input) must not have been imported by the CLI, the checks or the run record."""
    import subprocess
    import sys

    fasta = write_fasta(tmp_path / "in.fa", random_records(60))
    code = f"""
import sys
import genepheno_core.scale.runtime as runtime
class Stop(Exception):
    pass
def connect(*args, **kwargs):
    raise Stop
runtime.connect = connect
from genepheno_core.cli import main
try:
    main(["predict", {str(fasta)!r}, "--engine", "ray", "--format", "parquet", "-o", {str(tmp_path / 'out')!r}])
except Stop:
    print("reached connect")
print("torch modules:", sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reached connect" in done.stdout
    assert "torch modules: []" in done.stdout, done.stdout


# ------------------------------------------------------------- predictions with the shipped model


@pytest.fixture(scope="module")
def proteins200(tmp_path_factory):
    """200 human Swiss-Prot proteins of the mirror (records 5,000-5,199)."""
    from genepheno_core.embeddings import parse_sequences
    from genepheno_core.sources import resource_path

    records = parse_sequences(resource_path("uniprot", "swissprot_human.fasta.gz"))[5000:5200]
    return write_fasta(tmp_path_factory.mktemp("batch") / "proteins200.fa", records)


@pytest.mark.integration
def test_both_engines_give_identical_scores(proteins200, tmp_path):
    """The shipped hpo model, GO transferred from homologs, the cross-species search per block,
    cold embeddings in each engine: Ray's parts equal the in-process engine's bit for bit, and
    one in-process prediction of the whole file to float rounding."""
    from genepheno_core.interpret.inference import parse_records
    from genepheno_core.interpret.model_store import resolve_model

    import torch

    options = BatchOptions(top=20, cache=False)
    # a Ray worker has one CPU, so torch one thread: the local engine too, for the same bits
    # (with 2 threads, float sums in another order move a few gains by ~1e-7)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local = predict_blocks(proteins200, tmp_path / "local", None, options, block_size=60)
        whole = predict_records(resolve_model(None), parse_records(proteins200), options)
    finally:
        torch.set_num_threads(threads)
    ray = predict_blocks(proteins200, tmp_path / "ray", None, options, engine="ray", cpus=2, block_size=60)
    assert (local.blocks, local.computed, ray.blocks, ray.computed, ray.workers) == (3, 3, 3, 3, 2)
    a, b = read_predictions(tmp_path / "local"), read_predictions(tmp_path / "ray")
    assert len(a) == 200 * 20 and a["gene"].nunique() == 200
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    # one process over the whole file: the encoder batches 200 sequences, not 60-80, so a few
    # embeddings (and scores) move in the last float bit (~1e-7); the rows are the same
    pd.testing.assert_frame_equal(a, whole, check_exact=False, atol=1e-6, rtol=0)
    assert set(a["go_origin"]) <= {"transferred", "no homolog"} and (a["go_origin"] == "transferred").any()
    run = json.loads((tmp_path / "ray" / "_run.json").read_text())
    assert run["complete"] and run["proteins"] == 200 and run["model"]["name"] == "hpo"


# -------------------------------------------------------------------- the toy model: resume, errors




TOY = BatchOptions(top=5, go_transfer=False)  # a Ray worker loads the toy model from disk: no GO reference


@pytest.mark.usefixtures("toy_home")
def test_ray_resumes_after_a_part_is_deleted(model, tmp_path):
    fasta = toy_fasta(model, tmp_path)
    out = tmp_path / "out"
    first = predict_blocks(fasta, out, model.path, TOY, engine="ray", cpus=2, block_size=51)
    assert (first.blocks, first.computed, first.reused) == (2, 2, 0)
    before = read_predictions(out)
    parts = sorted(out.glob("part-*.parquet"))
    kept = {p.name: p.stat().st_mtime_ns for p in parts[1:]}
    parts[0].unlink()
    again = predict_blocks(fasta, out, model.path, TOY, engine="ray", cpus=2, block_size=51)
    assert (again.blocks, again.computed, again.reused, again.proteins) == (2, 1, 1, 51)
    assert {p.name: p.stat().st_mtime_ns for p in sorted(out.glob("part-*.parquet"))[1:]} == kept
    pd.testing.assert_frame_equal(read_predictions(out), before, check_exact=True)
    nothing = predict_blocks(fasta, out, model.path, TOY, block_size=51)  # the local engine reuses Ray's parts
    assert (nothing.computed, nothing.reused) == (0, 2)


@pytest.mark.usefixtures("toy_home")
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_bad_record_names_itself_and_keeps_finished_blocks(model, tmp_path, engine):
    fasta = toy_fasta(model, tmp_path, n=200, bad_at=170)  # blocks 0-50, 51-101, 102-199: the last is bad
    out = tmp_path / "out"
    kwargs = dict(engine="ray", cpus=2) if engine == "ray" else {}
    with pytest.raises(InputFormatError) as err:
        predict_blocks(fasta, out, model.path, TOY, block_size=51, **kwargs)
    header_line = next(i for i, line in enumerate(fasta.read_text().splitlines(), start=1) if line.startswith(">T0170"))
    assert err.value.record == "T0170" and err.value.line == header_line and str(fasta) in str(err.value)
    assert "invalid" in err.value.problem.lower() or "'1'" in err.value.problem
    assert "kept" in str(err.value)
    finished = sorted(p.name for p in out.glob("part-*.parquet"))
    assert "part-000002.parquet" not in finished
    if engine == "local":  # in order: both blocks before the bad one are there
        assert finished == ["part-000000.parquet", "part-000001.parquet"]
    else:  # two workers: block 2 starts when one of blocks 0 and 1 has finished
        assert finished
    for name in finished:  # whole parts, each with its 51 proteins
        assert pd.read_parquet(out / name)["gene"].nunique() == 51
    assert not json.loads((out / "_run.json").read_text())["complete"]
    # fixed, the rerun computes only what is missing
    fixed = toy_fasta(model, tmp_path, n=200)
    os.replace(fixed, fasta)
    resumed = predict_blocks(fasta, out, model.path, TOY, block_size=51, **kwargs)
    assert resumed.reused == len(finished) and resumed.computed == 3 - len(finished)
    assert read_predictions(out)["gene"].nunique() == 200


@pytest.mark.usefixtures("toy_home")
def test_runs_that_would_mix_or_overwrite_are_refused(model, tmp_path):
    fasta = toy_fasta(model, tmp_path, n=60)
    out = tmp_path / "out"
    predict_blocks(fasta, out, model.path, TOY, block_size=60)
    with pytest.raises(GenePhenoError, match="another options"):
        predict_blocks(fasta, out, model.path, BatchOptions(top=3, go_transfer=False), block_size=60)
    with pytest.raises(GenePhenoError, match="another block size"):
        predict_blocks(fasta, out, model.path, TOY, block_size=70)
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(GenePhenoError, match="not a GenePheno batch output"):
        predict_blocks(fasta, other, model.path, TOY)
    assert (other / "notes.txt").read_text() == "keep me"
    with pytest.raises(GenePhenoError, match="need engine 'ray'"):
        predict_blocks(fasta, tmp_path / "x", model.path, TOY, workers=2)


@pytest.mark.usefixtures("toy_home")
def test_a_shorter_input_drops_the_parts_past_its_end(model, tmp_path):
    out = tmp_path / "out"
    predict_blocks(toy_fasta(model, tmp_path, n=120), out, model.path, TOY, block_size=51)
    assert len(list(out.glob("part-*.parquet"))) == 2
    predict_blocks(toy_fasta(model, tmp_path, n=60, name="short.fa"), out, model.path, TOY, block_size=51)
    assert sorted(p.name for p in out.glob("part-*.parquet")) == ["part-000000.parquet"]
    assert read_predictions(out)["gene"].nunique() == 60


def test_ray_workers_fill_the_embedding_cache(tmp_home, tmp_path):
    from genepheno_core.embeddings import EmbeddingCache, embed_sequences, get_encoder
    from genepheno_core.embeddings.cache import sequence_key
    from genepheno_core.embeddings.sequences import parse_sequences

    fasta = write_fasta(tmp_path / "in.fa", random_records(110, seed=7))  # a fresh GENEPHENO_HOME
    encoder = get_encoder("unirep64")
    seqs = [s for _, s in parse_sequences(fasta)]
    store = EmbeddingCache()
    assert not store.lookup(encoder, [sequence_key(s) for s in seqs])
    summary = embed_blocks(fasta, "unirep64", engine="ray", cpus=2, block_size=55)
    assert (summary.blocks, summary.proteins, summary.workers) == (2, 110, 2)
    found = store.lookup(encoder, [sequence_key(s) for s in seqs])
    assert len(found) == 110  # every vector, from shards two workers wrote at once
    cached = np.stack([found[sequence_key(s)] for s in seqs])
    np.testing.assert_allclose(cached, embed_sequences(seqs, encoder, cache=False), atol=1e-5, rtol=0)
