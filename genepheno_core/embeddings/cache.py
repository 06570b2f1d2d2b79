"""Content-addressed embedding cache, shared by every dataset and process.

Layout under `genepheno_home()/embeddings/`:

    <encoder dir>/<cache_key[:32]>/meta.json        encoder name, dim, key components
    <encoder dir>/<cache_key[:32]>/shard-*.npz      keys (n, 32) uint8 = sha256(sequence),
                                                    vectors (n, dim) float32

The cache key (Encoder.cache_key) hashes the encoder name, the weights' sha256, pooling,
layer and truncation/chunking, so a changed model never reuses stale vectors; within it a
vector is found by the sha256 of its sequence, whatever dataset it came from.

Concurrency and crashes: shards are immutable and each is written under a unique name
through genepheno_core.io.atomic_path (temporary file + rename), so a reader sees a shard
whole or not at all, a killed run keeps every shard it finished (and resumes from there),
and two processes writing at once only add files. Readers list only `shard-*.npz`, so the
hidden `.shard-*.tmp` directory a kill leaves mid-write is never read; the next write to
the space removes it (its writer's pid no longer runs). `embed_sequences` writes a shard
every EmbeddingConfig.flush_seconds of compute, so a kill loses at most that much work. Compaction merges many small shards
into one under an exclusive lock, writing the merged shard before deleting the old ones;
a reader that lists a shard which then disappears simply rescans. Duplicate keys (two
processes embedding the same sequence) are harmless: the vectors are identical.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genepheno_core.embeddings.base import Encoder
from genepheno_core.io import atomic_path, atomic_write_text, genepheno_home, remove_stale_temps

logger = logging.getLogger(__name__)

COMPACT_ABOVE = 64  # merge a space's shards once it has more than this many


def sequence_key(seq: str) -> bytes:
    """32-byte sha256 of the sequence (upper-case letters, as the encoders see it)."""
    return hashlib.sha256(seq.encode("ascii", "replace")).digest()


def _safe_dir_name(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "encoder"
    if safe != name:  # keep distinct names distinct after sanitising
        safe = f"{safe[:60]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return safe


@dataclass
class CacheSpaceInfo:
    encoder: str
    cache_key: str
    dim: int
    entries: int
    shards: int
    size_bytes: int
    path: Path


class EmbeddingCache:
    """Read and write cached vectors for one cache root (default genepheno_home()/embeddings)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else genepheno_home() / "embeddings"
        # shard path -> its keys; shards are immutable, so this never goes stale
        self._keys_memo: dict[Path, np.ndarray] = {}
        self._index_memo: dict[Path, dict[bytes, int]] = {}
        self._swept: set[Path] = set()  # spaces already cleared of killed writers' temporaries

    # ------------------------------------------------------------------ layout
    def space_dir(self, encoder: Encoder) -> Path:
        return self.root / _safe_dir_name(encoder.name) / encoder.cache_key()[:32]

    def _ensure_meta(self, encoder: Encoder, space: Path) -> None:
        meta = space / "meta.json"
        if meta.exists():
            return
        components = {"encoder": encoder.name, **encoder.key_components()}
        atomic_write_text(
            meta,
            json.dumps(
                {"encoder": encoder.name, "dim": encoder.dim, "cache_key": encoder.cache_key(),
                 "components": components},
                indent=1, sort_keys=True, default=str,
            ),
        )

    @staticmethod
    def _shards(space: Path) -> list[Path]:
        return sorted(space.glob("shard-*.npz")) if space.is_dir() else []

    def _read_keys(self, shard: Path) -> np.ndarray:
        keys = self._keys_memo.get(shard)
        if keys is None:
            with np.load(shard, allow_pickle=False) as npz:
                keys = npz["keys"]
            self._keys_memo[shard] = keys
        return keys

    def _row_index(self, shard: Path) -> dict[bytes, int]:
        index = self._index_memo.get(shard)
        if index is None:
            flat = self._read_keys(shard).tobytes()
            index = {flat[32 * r : 32 * r + 32]: r for r in range(len(flat) // 32)}
            self._index_memo[shard] = index
        return index

    # ------------------------------------------------------------------ read
    def lookup(self, encoder: Encoder, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among `keys` (missing keys are absent from the result)."""
        space = self.space_dir(encoder)
        wanted = set(keys)
        for attempt in range(5):
            try:
                return self._lookup_once(space, wanted, encoder.dim)
            except (FileNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
                # a shard vanished under a concurrent compaction (or is unreadable): rescan
                logger.debug("cache rescan after %s (attempt %d)", exc, attempt + 1)
                time.sleep(0.05 * (attempt + 1))
        return self._lookup_once(space, wanted, encoder.dim, skip_bad=True)

    def _lookup_once(
        self, space: Path, wanted: set[bytes], dim: int, skip_bad: bool = False
    ) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        if not wanted:
            return found
        for shard in self._shards(space):
            try:
                index = self._row_index(shard)
                hits = [k for k in wanted.intersection(index) if k not in found]
                if not hits:
                    continue
                with np.load(shard, allow_pickle=False) as npz:
                    vectors = npz["vectors"]
            except (FileNotFoundError, zipfile.BadZipFile, KeyError, ValueError):
                if not skip_bad:
                    raise
                logger.warning("skipping unreadable cache shard %s", shard)
                continue
            if vectors.shape[1] != dim:
                logger.warning(
                    "cache shard %s has dim %d, expected %d; ignored", shard, vectors.shape[1], dim
                )
                continue
            for k in hits:
                found[k] = vectors[index[k]]
            if len(found) == len(wanted):
                break
        return found

    # ------------------------------------------------------------------ write
    def write(self, encoder: Encoder, keys: list[bytes], vectors: np.ndarray) -> Path | None:
        """Add one shard (atomically). Returns its path (None when there is nothing to write)."""
        if not keys:
            return None
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(keys), encoder.dim):
            raise ValueError(
                f"vectors shape {vectors.shape} does not match {len(keys)} keys x {encoder.dim}"
            )
        space = self.space_dir(encoder)
        self._ensure_meta(encoder, space)
        if space not in self._swept:
            remove_stale_temps(space, "shard-*")
            self._swept.add(space)
        key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        name = f"shard-{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.npz"
        target = space / name
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, keys=key_array, vectors=vectors)
                handle.flush()
                os.fsync(handle.fileno())
        self._keys_memo[target] = key_array
        return target

    def compact(self, encoder: Encoder, above: int = COMPACT_ABOVE) -> bool:
        """Merge the space's shards into one when there are more than `above` of them.

        Skipped (returns False) when another process holds the compaction lock."""
        space = self.space_dir(encoder)
        shards = self._shards(space)
        if len(shards) <= above:
            return False
        with _try_lock(space / ".compact.lock") as locked:
            if not locked:
                return False
            shards = self._shards(space)
            all_keys, all_vectors, seen = [], [], set()
            for shard in shards:
                with np.load(shard, allow_pickle=False) as npz:
                    keys, vectors = npz["keys"], npz["vectors"]
                for r in range(len(keys)):
                    k = keys[r].tobytes()
                    if k not in seen:
                        seen.add(k)
                        all_keys.append(k)
                        all_vectors.append(vectors[r])
            self.write(encoder, all_keys, np.stack(all_vectors))
            for shard in shards:
                shard.unlink(missing_ok=True)
                self._keys_memo.pop(shard, None)
                self._index_memo.pop(shard, None)
            logger.info(
                "compacted %d cache shards of %s into one (%d vectors)",
                len(shards), encoder.name, len(all_keys),
            )
            return True

    # ------------------------------------------------------------------ admin
    def info(self) -> list[CacheSpaceInfo]:
        """One entry per (encoder, cache key) space."""
        out = []
        for meta_path in sorted(self.root.glob("*/*/meta.json")):
            space = meta_path.parent
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                meta = {"encoder": space.parent.name, "dim": 0, "cache_key": space.name}
            entries, size = 0, 0
            shards = self._shards(space)
            for shard in shards:
                try:
                    entries += len(self._read_keys(shard))
                    size += shard.stat().st_size
                except (OSError, zipfile.BadZipFile, KeyError, ValueError):
                    continue
            out.append(
                CacheSpaceInfo(
                    encoder=meta.get("encoder", space.parent.name),
                    cache_key=meta.get("cache_key", space.name),
                    dim=int(meta.get("dim", 0)),
                    entries=entries,
                    shards=len(shards),
                    size_bytes=size,
                    path=space,
                )
            )
        return out

    def clear(self, encoder_name: str | None = None) -> int:
        """Delete the cached vectors of one encoder (all its cache keys) or of all encoders.
        Returns the number of spaces removed."""
        spaces = [s for s in self.info() if encoder_name is None or s.encoder == encoder_name]
        for space in spaces:
            shutil.rmtree(space.path, ignore_errors=True)
            parent = space.path.parent
            with contextlib.suppress(OSError):
                parent.rmdir()  # only when empty
        self._keys_memo.clear()
        self._index_memo.clear()
        return len(spaces)


@contextlib.contextmanager
def _try_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
