#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite twice:
#   pass 1 - the embedded default: SQLite, in-process tasks, in-memory cache;
#   pass 2 - real PostgreSQL and Redis, with a real Celery worker process started by the tests.
# Extra arguments go to pytest (e.g. scripts/test.sh -k storage).
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import bifrost_web, pytest_django, playwright" || { echo "dependency install failed"; exit 1; }

# Headless Chromium for the portal tests: Debian's package (Playwright's own browser download cannot work here).
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null \
    || echo "warning: could not install chromium; browser tests will fail under CI"
fi

RUN_ID="$$-$(date +%s)"
PG_URL=${BIFROST_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bifrost_ci_${RUN_ID//-/_}}
REDIS=${BIFROST_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
export BIFROST_SHARED_DATA=${BIFROST_SHARED_DATA:-$(cd .. && pwd)/shared/data}

status=0
echo "=== pass 1/2: embedded default (SQLite, in-process tasks)"
env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL .venv/bin/pytest -p no:cacheprovider "$@" || status=1

echo "=== pass 2/2: PostgreSQL + Redis + Celery worker ($PG_URL, $REDIS)"
DATABASE_URL="$PG_URL" REDIS_URL="$REDIS" BIFROST_CELERY_QUEUE="bifrost-ci-$RUN_ID" \
  BIFROST_CACHE_PREFIX="bifrost-ci-$RUN_ID" .venv/bin/pytest -p no:cacheprovider "$@" || status=1

exit $status
