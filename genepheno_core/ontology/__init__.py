"""Ontologies: loading (OBO, EFO JSON), ancestors/descendants, remapping, propagation, IC/IA."""

from genepheno_core.ontology.core import Ontology, RemapReport, TermInfo
from genepheno_core.ontology.loaders import load_efo_json, load_obo, load_ontology
from genepheno_core.ontology.namespace import write_obo_with_namespace

__all__ = [
    "Ontology",
    "RemapReport",
    "TermInfo",
    "load_efo_json",
    "load_obo",
    "load_ontology",
    "write_obo_with_namespace",
]
