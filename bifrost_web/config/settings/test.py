"""Test settings: base with a fast password hasher and an isolated data directory.

Which services a run uses comes from the environment exactly as in production:
no DATABASE_URL means SQLite, no REDIS_URL means eager tasks.
"""

import os
import tempfile

os.environ.setdefault("BIFROST_DATA_DIR", tempfile.mkdtemp(prefix="bifrost-test-"))
# Each pytest-xdist worker gets its own Redis key space, as it gets its own database: tests that
# count cache reads or rebuilds must not see another worker's writes. Set in the environment, so
# the worker processes and servers a test starts share the test's key space.
if os.environ.get("PYTEST_XDIST_WORKER") and not os.environ.get("BIFROST_CACHE_PREFIX", "").endswith(
        "-" + os.environ["PYTEST_XDIST_WORKER"]):
    os.environ["BIFROST_CACHE_PREFIX"] = f"{os.environ.get('BIFROST_CACHE_PREFIX', 'bifrost')}-" \
                                         f"{os.environ['PYTEST_XDIST_WORKER']}"

from bifrost_web.config.settings.base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
BIFROST_PROVIDER = "none"

# Tests run tasks in-process; the ``celery_worker`` fixture switches to a real worker
# process (with REDIS_URL) for the tests that ask for it.
CELERY_TASK_ALWAYS_EAGER = True
