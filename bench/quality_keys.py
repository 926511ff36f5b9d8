"""Answer keys of the quality benchmark: ``bench/keys/<cluster>.toml``, read and validated.

A key is written by reading a cluster's articles, never by running the tool. Its documents are
named ``D1``..``Dn``: the files ``D1.txt``.. of an eval-dev cluster, or the seed files in sorted
name order. The format (facts, disagreements, not_disagreements, must_not_appear, must_keep) is
described in QUALITY.md; these models are its schema, so a malformed key fails loudly with the
file and the field.
"""

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

KEYS = Path(__file__).resolve().parent / "keys"
"""Where the keys live, beside the benchmark."""

_DOC = re.compile(r"D[1-9]\d*")

Group = list[str]
"""Alternatives: one of them must occur."""


class KeyFileError(ValueError):
    """A key file that cannot be read or does not follow the format."""


def _pattern(groups: list[Group]) -> list[Group]:
    if not groups or any(not group or any(not a.strip() for a in group) for group in groups):
        raise ValueError("a pattern needs at least one group, each of non-empty alternatives")
    return groups


def _docs(docs: list[str]) -> list[str]:
    bad = [d for d in docs if not _DOC.fullmatch(d)]
    if bad:
        raise ValueError(f"documents are named D1, D2, ...: not {bad}")
    return docs


def _one_doc(doc: str) -> str:
    return _docs([doc])[0]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(_Entry):
    """What two or more documents report."""

    id: str
    fact: str
    docs: list[str] = Field(min_length=2)
    match: list[Group]

    _check_docs = field_validator("docs")(_docs)
    _check_match = field_validator("match")(_pattern)


class Value(_Entry):
    """One value given for a quantity, with the documents that give it."""

    value: str
    docs: list[str] = Field(min_length=1)
    match: Group = Field(min_length=1)

    _check_docs = field_validator("docs")(_docs)


class Disagreement(_Entry):
    """The same quantity, date or account, same scope, given differently."""

    id: str
    what: str
    match: list[Group]
    values: list[Value] = Field(min_length=2)

    _check_match = field_validator("match")(_pattern)


class NotDisagreement(_Entry):
    """Values that look alike but do not conflict."""

    id: str
    what: str
    values: list[Value] = Field(min_length=2)


class MustNotAppear(_Entry):
    """Boilerplate, a caption, a credit, a comment or a glued-on story."""

    text: str = Field(min_length=3)
    why: str


class MustKeep(_Entry):
    """One document's distinct angle."""

    doc: str
    angle: str
    match: list[Group]

    _check_doc = field_validator("doc")(_one_doc)
    _check_match = field_validator("match")(_pattern)


class Key(_Entry):
    """The answer key of one cluster."""

    cluster: str
    docs: dict[str, str] = Field(min_length=1)
    facts: list[Fact] = []
    disagreements: list[Disagreement] = []
    not_disagreements: list[NotDisagreement] = []
    must_not_appear: list[MustNotAppear] = []
    must_keep: list[MustKeep] = []

    @model_validator(mode="after")
    def _known_docs(self) -> "Key":
        _docs(list(self.docs))
        named = [*self._cited(), *(k.doc for k in self.must_keep)]
        unknown = sorted(set(named) - set(self.docs))
        if unknown:
            raise ValueError(f"documents not listed under [docs]: {unknown}")
        return self

    def _cited(self) -> list[str]:
        values = [v for d in self.disagreements for v in d.values]
        values += [v for d in self.not_disagreements for v in d.values]
        return [d for f in self.facts for d in f.docs] + [d for v in values for d in v.docs]


def load_key(path: Path) -> Key:
    """The key in ``path``; :class:`KeyFileError` naming the file and what is wrong."""
    try:
        key = Key.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as error:
        raise KeyFileError(f"{path}: {_one_line(error)}") from error
    if key.cluster != path.stem:
        raise KeyFileError(
            f"{path}: cluster = {key.cluster!r}, but the file is named {path.stem!r}"
        )
    return key


def key_for(cluster: str, folder: Path = KEYS) -> Key | None:
    """The key of ``cluster``, or None when it has none yet."""
    path = folder / f"{cluster}.toml"
    return load_key(path) if path.is_file() else None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
