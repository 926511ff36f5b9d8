"""Field descriptions from the schemas' attribute docstrings, gathered once into data.

Every field is documented by the docstring under it, and those descriptions are part of
the JSON schemas (the reply schemas are sent to the model). pydantic's
``use_attribute_docstrings`` finds them by reading and parsing each class's source on every
import (several per cent of a cached re-run); here they are read from ``docstrings.json``,
written by :func:`write` (a test says when it is out of date and how to run it).

A module whose source no longer matches the sha256 recorded beside its docstrings has them
parsed from the source instead, the way pydantic does it, so a description is never stale.
"""

import ast
import hashlib
import inspect
import json
import sys
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, get_origin

from pydantic import BaseModel, Field

DATA = Path(__file__).with_name("docstrings.json")
"""The gathered docstrings: per module file, its sha256 and each class's field docstrings."""

ClassDocs = dict[str, dict[str, str]]
"""Class name -> field name -> docstring."""


def _docstring(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        value = node.value.value
        return inspect.cleandoc(value) if isinstance(value, str) else None
    return None


def _field_docs(node: ast.ClassDef) -> dict[str, str]:
    """A class body's ``name: type`` lines each followed by a string, as pydantic reads them."""
    docs = {}
    for field, after in zip(node.body, node.body[1:], strict=False):
        doc = _docstring(after)
        if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name) and doc:
            docs[field.target.id] = doc
    return docs


def gather(source: bytes) -> ClassDocs:
    """Every class's field docstrings in a module's source."""
    classes = (n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef))
    return {node.name: docs for node in classes if (docs := _field_docs(node))}


def _sha256(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


@cache
def _stored() -> dict[str, Any]:
    try:
        stored: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing or unreadable: every module is parsed instead
        return {}
    return stored


@cache
def module_docs(path: Path) -> ClassDocs:
    """The field docstrings of the module at ``path``: stored ones if its source is unchanged."""
    entry = _stored().get(path.name, {})
    try:
        source = path.read_bytes()
    except OSError:  # no source to check against (nor for pydantic to read): the stored ones
        return dict(entry.get("classes", {}))
    if entry.get("sha256") == _sha256(source):
        docs: ClassDocs = entry["classes"]
        return docs
    return gather(source)


def _described(name: str, kind: Any, doc: str | None) -> Any:
    if doc is None or name.startswith("_") or get_origin(kind) is ClassVar:
        return kind  # not a field: pydantic gives it no description either
    return Annotated[kind, Field(description=doc)]


def describe(cls: type) -> None:
    """Give each of ``cls``'s own fields its docstring as description, before pydantic reads
    the fields (an explicit ``Field(description=...)`` wins, as with pydantic's option)."""
    own = inspect.get_annotations(cls)
    module = getattr(sys.modules.get(cls.__module__), "__file__", None)  # none: made in code
    if not own or not module:
        return
    docs = module_docs(Path(module)).get(cls.__name__, {})
    cls.__annotations__ = {name: _described(name, t, docs.get(name)) for name, t in own.items()}


class Described:
    """Mixin for a pydantic model (or settings) whose fields are described by their docstrings,
    as ``use_attribute_docstrings`` would; a module without stored docstrings is parsed."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        describe(cls)  # type.__new__ calls this before pydantic collects the fields
        super().__init_subclass__(**kwargs)


class Documented(Described, BaseModel):
    """A model whose fields are described by their docstrings (see the module's docstring)."""


def gathered(folder: Path) -> dict[str, Any]:
    """What ``docstrings.json`` holds for the modules in ``folder``."""
    modules = sorted(folder.glob("*.py"))
    return {
        path.name: {"sha256": _sha256(path.read_bytes()), "classes": gather(path.read_bytes())}
        for path in modules
        if gather(path.read_bytes())
    }


def write() -> None:
    """Gather the docstrings of this package's modules into ``docstrings.json``."""
    text = json.dumps(gathered(DATA.parent), indent=1, sort_keys=True, ensure_ascii=False)
    DATA.write_text(text + "\n", encoding="utf-8")
