"""Add `namespace:` lines to a copy of an OBO file (HP and MP carry none; cafaeval needs them)."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

from genepheno_core.io import atomic_path
from genepheno_core.sources._util import PathLike, iter_lines

logger = logging.getLogger(__name__)


def write_obo_with_namespace(src: PathLike, dst: PathLike, namespace: str) -> Path:
    """Copy `src` (plain/.gz/.zst OBO) to `dst`, giving every [Term] stanza without a
    `namespace:` line the line `namespace: <namespace>` right after its `id:` line.

    Stanzas that already have a namespace are left alone. `dst` is written atomically,
    gzip-compressed when it ends in .gz. Returns `dst`.
    """
    dst = Path(dst)
    out: list[str] = []
    stanza: list[str] = []
    in_term = False

    def flush() -> None:
        if in_term and not any(line.startswith("namespace:") for line in stanza):
            for i, line in enumerate(stanza):
                if line.startswith("id:"):
                    stanza.insert(i + 1, f"namespace: {namespace}")
                    break
        out.extend(stanza)
        stanza.clear()

    for _, line in iter_lines(src):
        if line.startswith("["):
            flush()
            in_term = line.strip() == "[Term]"
        stanza.append(line)
    flush()
    text = "\n".join(out) + "\n"
    with atomic_path(dst) as tmp:
        if dst.name.endswith(".gz"):
            with gzip.open(tmp, "wt", encoding="utf-8") as handle:
                handle.write(text)
        else:
            tmp.write_text(text, encoding="utf-8")
    return dst
