"""ARCHITECTURE.md's import rules, read from the code: which module may import which."""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

LEAVES = {"_exceptions", "settings", "guard", "openers", "prompts", "cache"}
STAGES = [
    "fetch",
    "readers",
    "ingest",
    "verify",
    "clean",
    "extract",
    "accounts",
    "figures",
    "embed",
    "align",
    "merge",
    "compose",
    "assemble",
]
RENDERERS = {"render", "render_html"}
MODEL_SEAM = {"gateway", "structured", "budget"}
NEVER_IN_PRODUCT = {"tests", "bench", "pytest", "vcr", "litellm"}


def product_files() -> list[Path]:
    return sorted([*(ROOT / "service").rglob("*.py"), *(ROOT / "schemas").glob("*.py")])


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, as dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def service_imports(path: Path) -> set[str]:
    """The ``service`` modules ``path`` imports, by their name under ``service``."""
    return {m.removeprefix("service.") for m in imports(path) if m.startswith("service.")}


def module(name: str) -> Path:
    return ROOT / "service" / f"{name}.py"


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_product_never_imports_test_tooling_or_litellm_directly(path: Path) -> None:
    tops = {m.split(".")[0] for m in imports(path)}
    assert not tops & NEVER_IN_PRODUCT


def test_schemas_never_import_the_service() -> None:
    for path in (ROOT / "schemas").glob("*.py"):
        assert not {m for m in imports(path) if m.split(".")[0] == "service"}, path.name


def test_leaves_import_nothing_of_the_product_but_its_errors() -> None:
    for name in LEAVES:
        assert service_imports(module(name)) <= {"_exceptions"}, name


@pytest.mark.parametrize("index", range(len(STAGES)), ids=lambda i: STAGES[i])
def test_a_stage_imports_only_earlier_stages_leaves_and_the_model_seam(index: int) -> None:
    allowed = LEAVES | set(STAGES[:index]) | MODEL_SEAM
    assert service_imports(module(STAGES[index])) <= allowed


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_a_renderer_reads_only_the_briefing_and_other_renderers(name: str) -> None:
    assert service_imports(module(name)) <= RENDERERS


def test_only_the_pipeline_and_the_commands_reach_the_digest_and_the_local_model() -> None:
    for path in (ROOT / "service").glob("*.py"):
        reached = {m.split(".")[0] for m in service_imports(path)}
        if path.stem not in ("pipeline", "cli"):
            assert "local_model" not in reached, path.name
        if path.stem != "cli":
            assert "digest" not in reached, path.name


@pytest.mark.parametrize("name", ["local_server", "lazy_grammar"])
def test_the_model_servers_own_modules_import_only_each_other(name: str) -> None:
    assert service_imports(module(name)) <= {"local_server", "lazy_grammar"}
