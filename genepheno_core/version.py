"""The package version (recorded in dataset manifests; genepheno_core.__version__)."""

__version__ = "0.1.0"
