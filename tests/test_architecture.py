"""Dependency direction: the domain package never reaches into the outer layers."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB_AND_INFRA = {"django", "rest_framework", "celery", "kombu", "redis", "channels", "psycopg", "psycopg2",
                 "bifrost_web", "bifrost_cli", "uvicorn"}
HTTP_CLIENTS = {"requests", "httpx", "urllib3", "aiohttp", "curl_cffi", "yfinance", "alpaca"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("bifrost"), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_never_imports_web_tasks_or_storage(path):
    assert not (_imports(path) & WEB_AND_INFRA), f"{path} imports {_imports(path) & WEB_AND_INFRA}"


@pytest.mark.parametrize(
    "path", [p for p in _modules("bifrost") if "adapters" not in p.parts], ids=lambda p: str(p.relative_to(ROOT))
)
def test_only_adapters_import_http_clients(path):
    assert not (_imports(path) & HTTP_CLIENTS), f"{path} imports {_imports(path) & HTTP_CLIENTS}"


def test_checker_catches_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from django.db import models\nimport requests\n")
    assert _imports(module) & WEB_AND_INFRA == {"django"}
    assert _imports(module) & HTTP_CLIENTS == {"requests"}
