#!/usr/bin/env bash
# Install Bifrost into .venv and run the portal on the embedded default
# (SQLite under ~/.local/share/bifrost, in-process tasks) with a demo login and demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet -e . 2>&1 | grep -v "^WARNING: Location" || true
exec .venv/bin/bifrost serve --demo "$@"
