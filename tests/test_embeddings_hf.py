"""esm2_* and hf: encoders with tiny randomly initialised models built offline in the test."""

import numpy as np
import pytest
import torch

from genepheno_core.embeddings.api import get_encoder
from genepheno_core.embeddings.hf import esm2_hub_id
from genepheno_core.errors import GenePhenoError, MissingDataError

ESM_VOCAB = [
    "<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P",
    "K", "Q", "N", "F", "Y", "M", "H", "W", "C", "X", "B", "U", "Z", "O", ".", "-", "<null_1>",
    "<mask>",
]  # fmt: skip


@pytest.fixture(scope="module")
def esm_dir(tmp_path_factory):
    from transformers import EsmConfig, EsmModel, EsmTokenizer

    path = tmp_path_factory.mktemp("tiny_esm")
    (path / "vocab.txt").write_text("\n".join(ESM_VOCAB) + "\n")
    tokenizer = EsmTokenizer(str(path / "vocab.txt"), model_max_length=18)
    config = EsmConfig(
        vocab_size=len(ESM_VOCAB), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=20, pad_token_id=1, mask_token_id=32,
        position_embedding_type="rotary", token_dropout=False,
    )
    torch.manual_seed(0)
    EsmModel(config, add_pooling_layer=False).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny_bert")
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *"ACDEFGHIKLMNPQRSTVWYXUOBZJ"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")  # one token per character
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
        sep_token="[SEP]", model_max_length=12,
    )
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, max_position_embeddings=12,
    )
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(path)
    fast.save_pretrained(path)
    return path


def _manual_mean(model, tokenizer, seq, layer=None):
    enc = tokenizer([seq], return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
    hidden = out.last_hidden_state if layer is None else out.hidden_states[layer]
    return hidden[0, 1:-1].mean(dim=0).numpy()  # drop CLS/BOS and EOS/SEP


def test_esm2_mean_pool_excludes_special_tokens(esm_dir):
    from transformers import AutoTokenizer, EsmModel

    enc = get_encoder("esm2_t6_8M", path=esm_dir)
    assert enc.name == "esm2_t6_8M" and enc.dim == 16
    assert enc.chunk == 16  # 18 tokens - CLS - EOS
    assert not hasattr(enc.model, "pooler") or enc.model.pooler is None
    model = EsmModel.from_pretrained(esm_dir, add_pooling_layer=False).eval()
    tokenizer = AutoTokenizer.from_pretrained(esm_dir)
    seqs = ["MKVLA", "ACDEFGHIK", "MUXJ"]
    got = enc.embed(seqs)
    for i, s in enumerate(seqs):
        np.testing.assert_allclose(got[i], _manual_mean(model, tokenizer, s.replace("J", "X")), atol=1e-5)
    # padding does not leak in: batch sizes 1 and 3 agree
    np.testing.assert_allclose(enc.embed(seqs, max_batch=1), got, atol=1e-5)
    # configurable layer
    layer1 = get_encoder("esm2_t6_8M", path=esm_dir, layer=1)
    np.testing.assert_allclose(layer1.embed(["MKVLA"])[0], _manual_mean(model, tokenizer, "MKVLA", 1), atol=1e-5)
    assert layer1.cache_key() != enc.cache_key()


def test_long_sequences_are_chunked(esm_dir):
    from transformers import AutoTokenizer, EsmModel

    model = EsmModel.from_pretrained(esm_dir, add_pooling_layer=False).eval()
    tokenizer = AutoTokenizer.from_pretrained(esm_dir)
    enc = get_encoder("esm2_t6_8M", path=esm_dir, chunk=4)
    seq = "MKVLAGHIKW"  # chunks MKVL, AGHI, KW: mean over all 10 residue tokens
    parts = ["MKVL", "AGHI", "KW"]
    weighted = sum(_manual_mean(model, tokenizer, p) * len(p) for p in parts) / len(seq)
    np.testing.assert_allclose(enc.embed([seq])[0], weighted, atol=1e-5)
    assert enc.cache_key() != get_encoder("esm2_t6_8M", path=esm_dir).cache_key()
    long = get_encoder("esm2_t6_8M", path=esm_dir).embed(["MKVLA" * 20])  # > 16: chunked
    assert long.shape == (1, 16) and np.isfinite(long).all()


def test_hf_any_automodel_with_char_tokenizer(bert_dir):
    from transformers import AutoModel, AutoTokenizer

    enc = get_encoder(f"hf:{bert_dir}")
    assert enc.dim == 8 and enc.name == f"hf:{bert_dir}"
    model = AutoModel.from_pretrained(bert_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    seqs = ["MKV", "ACDEFGHI", "MKVLAGHIKWMKVLAGHIKW"]
    got = enc.embed(seqs)
    for i, s in enumerate(seqs[:2]):
        np.testing.assert_allclose(got[i], _manual_mean(model, tokenizer, s), atol=1e-5)
    np.testing.assert_allclose(enc.embed(seqs, max_batch=1), got, atol=1e-5)


def test_names_and_missing_weights(tmp_path, monkeypatch):
    assert esm2_hub_id("esm2_t6_8M") == "facebook/esm2_t6_8M_UR50D"
    assert esm2_hub_id("esm2_t33_650M_UR50D") == "facebook/esm2_t33_650M_UR50D"
    with pytest.raises(GenePhenoError):
        get_encoder("esm2_big")
    with pytest.raises(MissingDataError):
        get_encoder("esm2_t6_8M", path=tmp_path)  # no config.json
    with pytest.raises(GenePhenoError, match="unknown encoder"):
        get_encoder("word2vec")


def test_esm_dir_env_var(esm_dir, tmp_path, monkeypatch):
    import shutil

    shutil.copytree(esm_dir, tmp_path / "esm2_t12_35M_UR50D")
    monkeypatch.setenv("GENEPHENO_ESM_DIR", str(tmp_path))
    enc = get_encoder("esm2_t12_35M")
    assert enc.model_dir == tmp_path / "esm2_t12_35M_UR50D"


def test_hf_nucleotide_model_keeps_dna(bert_dir):
    dna = "ATGGCC" * 6  # would be translated for a protein encoder
    enc = get_encoder(f"hf:{bert_dir}", translate=False)
    assert not enc.translate_nucleotides
    assert enc.cache_key() != get_encoder(f"hf:{bert_dir}").cache_key()
    from genepheno_core.embeddings import embed_sequences

    kept = embed_sequences([dna], enc, cache=False)
    translated = embed_sequences([dna], get_encoder(f"hf:{bert_dir}"), cache=False)
    np.testing.assert_allclose(kept, enc.embed([dna]), atol=1e-6)
    assert np.abs(kept - translated).max() > 1e-4
