"""Registry: mirror resolution, checksum verification, downloads (file:// URLs), caching."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import pytest

from genepheno_core.errors import ChecksumError, GenePhenoError, MissingDataError
from genepheno_core.sources import registry
from genepheno_core.sources.registry import Resource

CONTENT = b"hello genepheno\n"
SHA = hashlib.sha256(CONTENT).hexdigest()
needs_mirror = pytest.mark.skipif(not os.environ.get("GENEPHENO_MIRROR"), reason="GENEPHENO_MIRROR not set")


@pytest.fixture
def fake_registry(tmp_path, monkeypatch):
    """A registry with one pinned plain file, one current-only file and one derived file."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    (upstream / "a.txt").write_bytes(CONTENT)
    (upstream / "b.txt").write_bytes(b"whatever is current\n")
    entries = (
        Resource("demo", "1.0", "a.txt", (upstream / "a.txt").as_uri(), SHA, "CC0"),
        Resource("demo", "1.0", "b.txt", (upstream / "b.txt").as_uri(), None, "CC0"),
        Resource("demo", "2.0", "a.txt.gz", (upstream / "a.txt").as_uri(), "0" * 64, "CC0",
                 content_sha256=SHA),
        Resource("derived", "x", "d.tsv", "https://example.org/pkg.tar.gz", "1" * 64, "CC0",
                 downloadable=False, note="extracted from a package"),
    )
    monkeypatch.setattr(registry, "RESOURCES", entries)
    monkeypatch.setattr(registry, "DEFAULT_RELEASES", {"demo": "1.0", "derived": "x"})
    monkeypatch.setenv("GENEPHENO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GENEPHENO_MIRROR", raising=False)
    return tmp_path


def make_mirror(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / "mirror" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root / "mirror"


def test_lookup(fake_registry):
    assert registry.sources() == ["demo", "derived"]
    assert registry.releases("demo") == ["1.0", "2.0"]
    assert registry.default_release("demo") == "1.0"
    entry = registry.resource("demo", "a.txt")
    assert entry.pinned and entry.relpath == "demo/1.0/a.txt"
    assert not registry.resource("demo", "b.txt").pinned
    assert registry.resource("demo", "a.txt.gz", release="2.0").compress_on_download
    with pytest.raises(GenePhenoError, match="unknown data source 'nope'"):
        registry.resources("nope")
    with pytest.raises(GenePhenoError, match="unknown release '9' of 'demo'"):
        registry.resources("demo", "9")
    with pytest.raises(GenePhenoError, match="no file 'z.txt' in demo 1.0"):
        registry.resource("demo", "z.txt")


def test_mirror_resolution(fake_registry, monkeypatch):
    mirror = make_mirror(fake_registry, {"demo/1.0/a.txt": CONTENT, "demo/1.0/b.txt": b"anything"})
    monkeypatch.setenv("GENEPHENO_MIRROR", str(mirror))
    files = registry.fetch("demo")
    assert files == {"a.txt": mirror / "demo/1.0/a.txt", "b.txt": mirror / "demo/1.0/b.txt"}
    assert registry.resource_path("demo", "a.txt") == mirror / "demo/1.0/a.txt"
    assert not (fake_registry / "home" / "downloads").exists()  # nothing downloaded


def test_mirror_checksum_mismatch_names_file_and_hashes(fake_registry, monkeypatch):
    bad = b"tampered\n"
    mirror = make_mirror(fake_registry, {"demo/1.0/a.txt": bad})
    monkeypatch.setenv("GENEPHENO_MIRROR", str(mirror))
    with pytest.raises(ChecksumError) as err:
        registry.resource_path("demo", "a.txt")
    message = str(err.value)
    assert str(mirror / "demo/1.0/a.txt") in message
    assert SHA in message and hashlib.sha256(bad).hexdigest() in message


def test_mirror_missing_file(fake_registry, monkeypatch):
    mirror = make_mirror(fake_registry, {"demo/1.0/b.txt": b"x"})
    monkeypatch.setenv("GENEPHENO_MIRROR", str(mirror))
    with pytest.raises(MissingDataError, match=r"demo 1.0 file 'a.txt' is not in the mirror .*demo/1.0/a.txt"):
        registry.fetch("demo")


def test_download_verifies_and_caches(fake_registry):
    path = registry.resource_path("demo", "a.txt")
    assert path == fake_registry / "home" / "downloads" / "demo" / "1.0" / "a.txt"
    assert path.read_bytes() == CONTENT
    # second call: no download (the upstream copy can disappear)
    (fake_registry / "upstream" / "a.txt").unlink()
    assert registry.resource_path("demo", "a.txt") == path
    # no temporary files left next to it
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]


def test_download_compresses_and_checks_content_hash(fake_registry):
    path = registry.resource_path("demo", "a.txt.gz", release="2.0")
    assert path.name == "a.txt.gz"
    assert gzip.decompress(path.read_bytes()) == CONTENT  # verified via content_sha256


def test_download_checksum_mismatch_leaves_nothing(fake_registry):
    (fake_registry / "upstream" / "a.txt").write_bytes(b"changed upstream\n")
    with pytest.raises(ChecksumError) as err:
        registry.resource_path("demo", "a.txt")
    assert "a.txt" in str(err.value) and SHA in str(err.value)
    target_dir = fake_registry / "home" / "downloads" / "demo" / "1.0"
    assert not target_dir.exists() or list(target_dir.iterdir()) == []


def test_current_only_is_not_checked(fake_registry):
    path = registry.resource_path("demo", "b.txt")
    assert registry.sha256_file(path) == hashlib.sha256(b"whatever is current\n").hexdigest()


def test_download_failure_is_missing_data(fake_registry, monkeypatch):
    def refuse(url):
        raise OSError("network unreachable")

    monkeypatch.setattr(registry, "_open_url", refuse)
    with pytest.raises(MissingDataError, match="cannot download .*network unreachable"):
        registry.resource_path("demo", "a.txt")


def test_derived_file_needs_mirror(fake_registry):
    with pytest.raises(MissingDataError, match="cannot be downloaded as is .*extracted from a package.*GENEPHENO_MIRROR"):
        registry.fetch("derived")


def _rewrite_keeping_size_and_mtime(path: Path, data: bytes) -> None:
    """The tampering of issue 14: new bytes, same size, mtime restored."""
    stat = path.stat()
    assert len(data) == stat.st_size
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_mtime_ns == stat.st_mtime_ns


def test_tampered_mirror_file_with_same_size_and_mtime_fails(fake_registry, monkeypatch):
    mirror = make_mirror(fake_registry, {"demo/1.0/a.txt": CONTENT})
    monkeypatch.setenv("GENEPHENO_MIRROR", str(mirror))
    path = registry.resource_path("demo", "a.txt")  # verified once (a hash cache would now hold it)
    tampered = b"HELLO genepheno\n"
    _rewrite_keeping_size_and_mtime(path, tampered)
    with pytest.raises(ChecksumError) as err:
        registry.resource_path("demo", "a.txt")
    assert err.value.actual == hashlib.sha256(tampered).hexdigest() and err.value.expected == SHA
    assert not (fake_registry / "home" / "cache" / "sha256.json").exists()  # no hash cache on disk


def test_obtain_verified_returns_hash_of_the_bytes(fake_registry, monkeypatch):
    # a re-compressed copy of the pinned content: accepted through content_sha256, and the
    # hash returned (what a manifest records) is the file's own, not the registry's
    recompressed = gzip.compress(CONTENT, compresslevel=1, mtime=12345)
    mirror = make_mirror(fake_registry, {"demo/2.0/a.txt.gz": recompressed, "demo/1.0/b.txt": b"current 1\n"})
    monkeypatch.setenv("GENEPHENO_MIRROR", str(mirror))
    path, sha = registry.obtain_verified(registry.resource("demo", "a.txt.gz", "2.0"))
    assert path == mirror / "demo/2.0/a.txt.gz" and sha == hashlib.sha256(recompressed).hexdigest()
    current = registry.resource("demo", "b.txt")
    assert registry.obtain_verified(current)[1] == hashlib.sha256(b"current 1\n").hexdigest()
    _rewrite_keeping_size_and_mtime(mirror / "demo/1.0/b.txt", b"current 2\n")
    assert registry.obtain_verified(current)[1] == hashlib.sha256(b"current 2\n").hexdigest()


def _zlib_corrupt_gzip() -> bytes:
    """A gzip of CONTENT whose deflate stream is broken: gzip raises zlib.error, not
    BadGzipFile or EOFError (the case that reached users as a traceback)."""
    packed = bytearray(gzip.compress(CONTENT * 50, mtime=0))
    packed[10] = 0x07  # first deflate block header: BTYPE=11, a reserved block type
    with pytest.raises(zlib.error):
        gzip.decompress(bytes(packed))
    return bytes(packed)


def test_corrupt_mirror_gzip_is_a_checksum_error(fake_registry, monkeypatch):
    mirror = make_mirror(fake_registry, {"demo/2.0/a.txt.gz": _zlib_corrupt_gzip()})
    monkeypatch.setenv("GENEPHENO_MIRROR", str(mirror))
    with pytest.raises(ChecksumError, match="a.txt.gz"):
        registry.resource_path("demo", "a.txt.gz", release="2.0")


def test_real_registry_is_consistent():
    seen = set()
    for entry in registry.RESOURCES:
        key = (entry.source, entry.release, entry.filename)
        assert key not in seen
        seen.add(key)
        assert entry.licence
        assert entry.url and entry.url.startswith(("http://", "https://"))
        if entry.sha256 is not None:
            assert len(entry.sha256) == 64
    for source in registry.sources():
        assert registry.resources(source)  # the default release exists
    assert registry.resource("mgi", "MGI_GenePheno.rpt.gz", "current").sha256 is None
    assert registry.resource("hpo", "hp.obo.gz").url.startswith(
        "https://github.com/obophenotype/human-phenotype-ontology/releases/download/v2025-01-16/"
    )


@pytest.mark.integration
@needs_mirror
def test_registry_matches_mirror_sha256sums():
    mirror = Path(os.environ["GENEPHENO_MIRROR"])
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split(maxsplit=1)
        sums[rel.removeprefix("./")] = digest
    by_path = {e.relpath: e for e in registry.RESOURCES if e.pinned}
    assert set(sums) == set(by_path)  # every mirror file is registered and pinned, and nothing else
    for rel, digest in sums.items():
        assert by_path[rel].sha256 == digest, rel
    for entry in by_path.values():
        assert registry.obtain(entry) == mirror / entry.relpath  # verified against its sha256


def test_compression_rules():
    rest = registry.resource("uniprot", "swissprot_human.fasta.gz", "current")
    assert not rest.compress_on_download  # the REST stream is already gzip
    assert registry.resource("hpo", "hp.obo.gz").compress_on_download  # GitHub asset is plain
    assert not registry.resource("goa", "goa_human.gaf.gz").compress_on_download


def test_interrupted_download_leaves_no_file(fake_registry, monkeypatch):
    class Broken:
        headers = {"Content-Length": "100"}

        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError("connection reset")
            return b"partial"

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(registry, "_open_url", lambda url: Broken())
    with pytest.raises(MissingDataError, match="download of .* failed: connection reset"):
        registry.resource_path("demo", "a.txt")
    target_dir = fake_registry / "home" / "downloads" / "demo" / "1.0"
    assert not target_dir.exists() or list(target_dir.iterdir()) == []


def test_mirror_falls_back_to_earlier_download(fake_registry, monkeypatch):
    downloaded = registry.resource_path("demo", "b.txt")  # no mirror: downloaded
    mirror = make_mirror(fake_registry, {"demo/1.0/a.txt": CONTENT})
    monkeypatch.setenv("GENEPHENO_MIRROR", str(mirror))
    assert registry.resource_path("demo", "b.txt") == downloaded
    assert registry.resource_path("demo", "a.txt") == mirror / "demo/1.0/a.txt"
