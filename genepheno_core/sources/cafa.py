"""CAFA2 benchmark files (GitHub yuxjiang/CAFA2): ground truth, target lists and the
tab-separated HPO tables. Reference material only: CAFA2 target ids (T96060000002) cannot
be mapped to proteins offline, so no dataset is built from them.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from genepheno_core.sources._util import ONTOLOGY_ID, PathLike, check_column, read_tsv

logger = logging.getLogger(__name__)

_TARGET = re.compile(r"T\d+")


def read_cafa_groundtruth(path: PathLike) -> pd.DataFrame:
    """`benchmark_groundtruth_*.txt`: target<TAB>term -> columns target, term_id."""
    table, lines, _ = read_tsv(path, 2)
    table.columns = ["target", "term_id"]
    if len(table):
        check_column(path, table, "target", _TARGET, lines, what="CAFA target id")
        check_column(path, table, "term_id", ONTOLOGY_ID, lines, what="term id")
    return table


def read_cafa_targets(path: PathLike) -> list[str]:
    """`benchmark_lists_*.txt`: one target id per line."""
    table, lines, _ = read_tsv(path, 1)
    table.columns = ["target"]
    if len(table):
        check_column(path, table, "target", _TARGET, lines, what="CAFA target id")
    return table["target"].tolist()


def read_cafa_ontology_rel(path: PathLike) -> pd.DataFrame:
    """`ontology_hpo_rel.txt`: child<TAB>relation<TAB>parent -> child, relation, parent."""
    table, lines, _ = read_tsv(path, 3)
    table.columns = ["child", "relation", "parent"]
    if len(table):
        check_column(path, table, "child", ONTOLOGY_ID, lines, what="term id")
        check_column(path, table, "parent", ONTOLOGY_ID, lines, what="term id")
    return table


def read_cafa_ontology_terms(path: PathLike) -> pd.DataFrame:
    """`ontology_hpo_term.txt`: term<TAB>name -> term_id, name."""
    table, lines, _ = read_tsv(path, 2)
    table.columns = ["term_id", "name"]
    if len(table):
        check_column(path, table, "term_id", ONTOLOGY_ID, lines, what="term id")
    return table
