"""The environment variables GenePheno reads, all in one place.

| variable | what | default |
| --- | --- | --- |
| GENEPHENO_HOME | caches: downloads, datasets, embeddings, DIAMOND databases | the platform cache directory |
| GENEPHENO_MIRROR | a local copy of the upstream releases, `<source>/<release>/<file>`; nothing is downloaded | unset: download |
| GENEPHENO_ASSETS | the shipped models (`models/`) and case studies (`case_studies.json`) | `assets/` of a source checkout, else `<prefix>/share/genepheno/assets` of an installed package |
| GENEPHENO_MODELS_DIR | a folder of model directories (the dashboard lists them; `hpo` is the default model) | `<assets>/models` |
| GENEPHENO_ESM_DIR | local ESM-2 weights for `--encoder esm2_*` | unset |

Functions return paths; nothing here creates directories or reads files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from genepheno_core.errors import MissingDataError

HOME, MIRROR, ASSETS, MODELS_DIR, ESM_DIR = (
    "GENEPHENO_HOME", "GENEPHENO_MIRROR", "GENEPHENO_ASSETS", "GENEPHENO_MODELS_DIR", "GENEPHENO_ESM_DIR")

# a source checkout: <repo>/genepheno_core/environment.py -> <repo>/assets
_CHECKOUT_ASSETS = Path(__file__).resolve().parents[1] / "assets"
# an installed package: pyproject.toml's data-files put the assets under <prefix>/share/genepheno
_INSTALLED_ASSETS = Path(sys.prefix) / "share" / "genepheno" / "assets"


def _path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def home() -> Path:
    """$GENEPHENO_HOME, else the platform cache directory."""
    return _path(HOME) or Path(platformdirs.user_cache_dir("genepheno"))


def mirror() -> Path | None:
    """$GENEPHENO_MIRROR, or None when unset or empty."""
    return _path(MIRROR)


def esm_dir() -> Path | None:
    """$GENEPHENO_ESM_DIR, or None."""
    return _path(ESM_DIR)


def assets_dir() -> Path:
    """The shipped assets: $GENEPHENO_ASSETS, else the source checkout's assets/, else the
    installed package's share/genepheno/assets. MissingDataError (naming GENEPHENO_ASSETS)
    when none of them exists."""
    given = _path(ASSETS)
    if given is not None:
        if not given.is_dir():
            raise MissingDataError(f"{ASSETS}={given} is not a directory (it should hold models/ and "
                                   "case_studies.json, as assets/ of the GenePheno repository)")
        return given
    for candidate in (_CHECKOUT_ASSETS, _INSTALLED_ASSETS):
        if candidate.is_dir():
            return candidate
    raise MissingDataError(f"no GenePheno assets (default models, case studies) in {_CHECKOUT_ASSETS} or "
                           f"{_INSTALLED_ASSETS}; set {ASSETS} to a copy of the repository's assets/ folder")


def models_dir() -> Path:
    """$GENEPHENO_MODELS_DIR, else <assets>/models."""
    return _path(MODELS_DIR) or assets_dir() / "models"
