"""The embedded default (SQLite) with several writer processes: audit appends from two
processes at once all land, in one intact chain, instead of failing with "database is locked"."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

WRITER = r"""
import sys, django
django.setup()
from bifrost_web.compliance.services import audit_record
for i in range(int(sys.argv[1])):
    audit_record(actor=f"writer-{sys.argv[2]}", action="test.append", object_type="test", object_id=str(i))
"""

CHECK = r"""
import django
django.setup()
from bifrost_web.compliance.services import audit_verify
from bifrost_web.compliance.models import AuditEntry
checked, broken = audit_verify()
print(checked, broken, AuditEntry.objects.filter(action="test.append").count())
"""


def test_two_processes_append_to_the_audit_trail_of_one_sqlite_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(BIFROST_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="bifrost_web.config.settings.local",
               BIFROST_LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v", "0"], env=env, cwd=REPO, check=True)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, "150", str(n)], env=env, cwd=REPO,
                                stderr=subprocess.PIPE, text=True) for n in range(2)]
    errors = [w.communicate(timeout=300)[1] for w in writers]
    checked = subprocess.run([sys.executable, "-c", CHECK], env=env, cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()

    assert [w.returncode for w in writers] == [0, 0], errors
    assert checked[1:] == ["None", "300"] and int(checked[0]) >= 300  # every append, chain unbroken
