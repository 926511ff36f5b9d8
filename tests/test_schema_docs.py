"""Field descriptions gathered once (schemas._docs) are the ones pydantic reads from the source."""

import importlib.util
import inspect
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel
from pydantic._internal._docs_extraction import extract_docstrings_from_cls

import schemas
import service.settings
from schemas import _docs

FOLDER = Path(schemas.__file__).parent

MODELS = """
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

class Part(BASE):
    '''A nested model.'''

    CONFIG
    name: str
    '''Its name.'''
    weight: int = Field(ge=0, default=1)
    '''Weighed,
    over two lines.'''

class Whole(BASE):
    CONFIG
    parts: list[Part] = []
    '''Its parts, nested.'''
    label: str | None = None
    '''A default of None.'''
    explicit: str = Field(description="given explicitly")
    '''The explicit description wins.'''
    plain: int = 0
    not_a_docstring: int = 1
    limit: ClassVar[int] = 3
    '''A class variable: not a field.'''

class Derived(Whole):
    CONFIG
    extra: bool = False
    '''A field of the subclass.'''
"""


def models(tmp_path: Path, name: str, base: str, config: str) -> ModuleType:
    """The models above in a module of their own, on ``base`` with ``config``."""
    path = tmp_path / f"{name}.py"
    head = "from schemas._docs import Documented\n"
    path.write_text(head + MODELS.replace("BASE", base).replace("CONFIG", config))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("model", ["Part", "Whole", "Derived"])
def test_described_models_have_the_json_schema_of_pydantics_docstring_option(
    tmp_path: Path, model: str
) -> None:
    ours = models(tmp_path, "described_models", "Documented", "model_config = ConfigDict()")
    option = "model_config = ConfigDict(use_attribute_docstrings=True)"
    pydantics = models(tmp_path, "docstring_models", "BaseModel", option)
    for mode in ("validation", "serialization"):
        theirs = getattr(pydantics, model).model_json_schema(mode=mode)
        assert getattr(ours, model).model_json_schema(mode=mode) == theirs
    assert "given explicitly" in json.dumps(ours.Whole.model_json_schema())


def schema_models() -> list[type[BaseModel]]:
    """Every model of the schemas, and the settings (described the same way)."""
    modules = [sys.modules[f"schemas.{p.stem}"] for p in FOLDER.glob("*.py") if p.stem[0] != "_"]
    return [
        cls
        for module in [*modules, service.settings]
        for cls in vars(module).values()
        if inspect.isclass(cls) and issubclass(cls, BaseModel) and cls.__module__ == module.__name__
    ]


@pytest.mark.parametrize("model", schema_models(), ids=lambda m: m.__name__)
def test_every_schema_field_is_described_by_its_docstring(model: type[BaseModel]) -> None:
    docs = extract_docstrings_from_cls(model, use_inspect=True)
    described = {n: f.description for n, f in model.model_fields.items() if n in docs}
    assert described == docs


def test_the_gathered_docstrings_are_current() -> None:
    stored = json.loads(_docs.DATA.read_text(encoding="utf-8"))
    write = 'python -c "from schemas._docs import write; write()"'
    assert stored == _docs.gathered(FOLDER), f"schemas changed: run {write}"


def test_a_changed_module_has_its_docstrings_read_from_its_source(tmp_path: Path) -> None:
    path = tmp_path / "article.py"  # named as a stored module, but not its source
    path.write_text("class Removal:\n    kind: str\n    '''Changed.'''\n", encoding="utf-8")
    assert _docs.module_docs(path) == {"Removal": {"kind": "Changed."}}
