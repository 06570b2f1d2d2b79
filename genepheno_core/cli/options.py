"""Options shared by several subcommands."""

from __future__ import annotations


def add_model_options(parser) -> None:
    """--model NAME|DIR and --exact-model (predict, explain, serve): a shipped model's name
    sends proteins given no GO to its NAME-go-transfer sibling (model_store.choose_model)."""
    parser.add_argument("--model", default=None, metavar="NAME|DIR",
                        help="a shipped model's name (hpo, mpo; default hpo) or a checkpoint directory. Proteins "
                             "given no GO are scored by the shipped NAME-go-transfer model (trained on GO transferred "
                             "from homologs: the benchmark's validation choice for that input) unless --exact-model")
    parser.add_argument("--exact-model", dest="auto_model", action="store_false",
                        help="use --model as named also for proteins given no GO (default: NAME-go-transfer for them)")
