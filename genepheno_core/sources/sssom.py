"""SSSOM mapping tables (Simple Standard for Sharing Ontology Mappings, TSV serialisation).

An SSSOM file is a tab-separated table with one mapping per row (required columns
subject_id, predicate_id, object_id, mapping_justification) preceded by the mapping set's
metadata as YAML in lines starting with `#`. `read_sssom` returns both; `mp_hp_mappings`
reads the registry's mouse (MP) <-> human (HP) phenotype mapping sets (MGI curated, MGI
lexical, Pistoia) as one table oriented MP -> HP.

The reference implementation (sssom-py) pulls ~60 packages (linkml, rdflib, Sphinx, ...)
for what is, for reading, a TSV with a YAML header: pandas (through the checked TSV reader)
and PyYAML do it here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd
import yaml

from genepheno_core.errors import InputFormatError
from genepheno_core.sources._util import PathLike, ONTOLOGY_ID, check_column, check_unique_columns, iter_lines, read_tsv

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id")

# the registry's MP <-> HP mapping sets (source "mappings"), by short name
MP_HP_SETS = {
    "mgi_curated": "mp_hp_mgi_all.sssom.tsv",
    "mgi_lexical": "mp_hp_mgi_lex.tsv",
    "pistoia": "mp_hp_pistoia.sssom.tsv",
}


@dataclass
class MappingSet:
    """One SSSOM file: `metadata` (the YAML header as a dict: mapping_set_id, license,
    curie_map, ...) and `mappings` (one row per mapping, every column of the file as str,
    at least subject_id, predicate_id, object_id)."""

    metadata: dict = field(default_factory=dict)
    mappings: pd.DataFrame = field(default_factory=pd.DataFrame)


def read_sssom(path: PathLike) -> MappingSet:
    """Read an SSSOM/TSV file (plain or .gz).

    Raises InputFormatError naming the file (and line) for: metadata that is not YAML (or
    not a mapping), a table without subject_id / predicate_id / object_id, a repeated
    column, a row with more fields than the header or too few for the required columns
    (shorter rows are padded with ""), or an id that is not a CURIE
    (PREFIX:local, e.g. MP:0000001)."""
    meta_lines: list[str] = []
    header_line = None
    for number, line in iter_lines(path):
        if line.startswith("#"):
            meta_lines.append(line[1:])
            continue
        if line.strip():
            header_line = (number, line)
            break
    if header_line is None:
        raise InputFormatError(path, "no mapping table (only metadata or an empty file)")
    try:
        metadata = yaml.safe_load("\n".join(meta_lines)) if meta_lines else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputFormatError(path, f"metadata block is not valid YAML: {getattr(exc, 'problem', exc)}",
                               line=(mark.line + 1) if mark is not None else None) from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise InputFormatError(path, "metadata block is not a YAML mapping (key: value lines)")
    number, line = header_line
    names = [name.strip() for name in line.split("\t")]
    check_unique_columns(path, names, number)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise InputFormatError(path, f"header lacks {missing}: not an SSSOM mapping table ({line[:80]!r})",
                               line=number)
    # rows may stop early when their last optional columns are empty (MGI's curated set has
    # such rows): they are padded with ""; a row without the required columns, or wider
    # than the header, is an error
    narrowest = max(names.index(c) for c in REQUIRED_COLUMNS) + 1
    table, lines, _ = read_tsv(path, range(narrowest, len(names) + 1), comment="#", header=True)
    for i in range(table.shape[1], len(names)):
        table[i] = pd.Series([""] * len(table), dtype="string", index=table.index)
    table.columns = names
    for column in ("subject_id", "object_id"):
        # a CURIE with a numeric local part for the ontology ids we read; other prefixes
        # (e.g. sssom:NoTermFound) are allowed by the standard and kept as they are
        is_curie = table[column].str.contains(":", regex=False).fillna(False)
        if not bool(is_curie.all()):
            check_column(path, table, column, ONTOLOGY_ID, lines, what="CURIE")
    logger.debug("%s: %d mappings", path, len(table))
    return MappingSet(metadata=metadata, mappings=table.reset_index(drop=True))


def mp_hp_mappings(release: str | None = None, sets: tuple[str, ...] = tuple(MP_HP_SETS)) -> pd.DataFrame:
    """The registry's MP <-> HP mapping sets as one table DataFrame[mp_id, hp_id,
    predicate_id, mapping_set] (MP on the left whichever side the file put it on; rows
    pairing anything other than one MP and one HP term are dropped), duplicates removed."""
    from genepheno_core.sources.registry import resource_path

    frames = []
    for name in sets:
        if name not in MP_HP_SETS:
            raise ValueError(f"unknown mapping set {name!r} (known: {', '.join(MP_HP_SETS)})")
        path = resource_path("mappings", MP_HP_SETS[name], release)
        table = read_sssom(path).mappings
        subject, obj = table["subject_id"].astype(str), table["object_id"].astype(str)
        forward = subject.str.startswith("MP:") & obj.str.startswith("HP:")
        backward = subject.str.startswith("HP:") & obj.str.startswith("MP:")
        frame = pd.DataFrame({
            "mp_id": subject.where(forward, obj), "hp_id": obj.where(forward, subject),
            "predicate_id": table["predicate_id"].astype(str), "mapping_set": name,
        })[forward | backward]
        if (~(forward | backward)).any():
            logger.info("%s: %d rows are not MP <-> HP pairs (left out)", path, int((~(forward | backward)).sum()))
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True).drop_duplicates(["mp_id", "hp_id", "mapping_set"])
    return out.reset_index(drop=True)
