#!/bin/sh
# The slow recipe tests (end to end through the CLI on a LocalCluster), from the repo root:
#   sh tests/recipes/run_slow.sh
set -e
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-/work/venv/bin/python}"
exec "$PYTHON" -m pytest tests/recipes -m slow -p no:cacheprovider "$@"
