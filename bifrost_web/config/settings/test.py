"""Test settings: base with a fast password hasher and an isolated data directory.

Which services a run uses comes from the environment exactly as in production:
no DATABASE_URL means SQLite, no REDIS_URL means eager tasks.
"""

import os
import tempfile

os.environ.setdefault("BIFROST_DATA_DIR", tempfile.mkdtemp(prefix="bifrost-test-"))

from bifrost_web.config.settings.base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
BIFROST_PROVIDER = "none"

# Tests run tasks in-process; the ``celery_worker`` fixture switches to a real worker
# process (with REDIS_URL) for the tests that ask for it.
CELERY_TASK_ALWAYS_EAGER = True
