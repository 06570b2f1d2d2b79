import json

from genepheno_core.embeddings import base
from genepheno_core.io import sha256_file


def test_weights_sha256_memoised_and_sensitive_to_content(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path / "home"))
    w = tmp_path / "w.bin"
    w.write_bytes(b"abc")
    first = base.weights_sha256([w])
    memo = json.loads((tmp_path / "home" / "embeddings" / "weights_sha256.json").read_text())
    assert list(memo.values()) == [sha256_file(w)]
    assert base.weights_sha256([w]) == first
    w.write_bytes(b"abcd")  # new size -> new memo key -> re-hashed
    assert base.weights_sha256([w]) != first
