#!/usr/bin/env bash
# Install what the study needs on a fresh Debian machine: the Debian packages that render and read
# audio, and a virtual environment at .venv with the pinned Python packages (the `analysis` library,
# Snakemake, PyTorch CPU...). Safe to run again: it installs only what is missing. build-essential
# and python3-dev build sed_scores_eval, published as source with Cython extensions.
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_PACKAGES=(espeak-ng fluidsynth fluid-soundfont-gm sox libsndfile1 python3-venv
                 build-essential python3-dev)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
