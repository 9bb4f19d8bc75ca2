"""The package map holds: arrows point one way, and each third-party library has one home."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# package -> packages of ours it may import
ALLOWED = {
    "config": {"index"},
    "index": set(),
    "cli": {"config", "index", "bot"},
    "bot": {"config", "index"},
    "training": {"index"},
}
# library -> the modules of ours that may import it: faiss one, sentence-transformers one per kind of
# model (the embedder and the reader), and the script that trains the reader
HOMES = {
    "faiss": ["index/store.py"],
    "sentence_transformers": [
        "index/embedding.py",
        "index/reader.py",
        "training/embedder.py",
        "training/reader.py",
    ],
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_packages_beneath_it(package: str) -> None:
    for path in _modules(package):
        ours = _imports(path) & set(ALLOWED) - {package}
        assert ours <= ALLOWED[package], f"{path.relative_to(ROOT)} imports {sorted(ours - ALLOWED[package])}"


@pytest.mark.parametrize("library", ["faiss", "sentence_transformers"])
def test_a_third_party_library_is_imported_by_one_module_only(library: str) -> None:
    importers = [
        str(path.relative_to(ROOT)) for package in ALLOWED for path in _modules(package) if library in _imports(path)
    ]
    assert importers == HOMES[library]


def test_the_engine_knows_nothing_of_discord_or_settings() -> None:
    for path in _modules("index"):
        assert not _imports(path) & {"discord", "config", "pydantic_settings", "os.environ"}, path
