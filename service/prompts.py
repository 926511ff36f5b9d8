"""Load prompt templates from the ``prompts`` package and render them into chat messages."""

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2

Message = dict[str, str]


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt file: versioned system and user templates."""

    name: str
    version: str
    max_tokens: int
    system: str
    user: str

    def render(self, **variables: Any) -> list[Message]:
        """Render both templates into chat messages."""
        return [
            {"role": "system", "content": _render(self.system, variables)},
            {"role": "user", "content": _render(self.user, variables)},
        ]


_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


def _render(template: str, variables: dict[str, Any]) -> str:
    return _compiled(template).render(**variables)


@cache
def _compiled(template: str) -> jinja2.Template:
    # compiling is most of a render's time: once per template, not once per call
    return _ENV.from_string(template)


@cache
def load_prompt(name: str) -> PromptTemplate:
    """Read ``prompts/<name>.toml`` from the installed package."""
    raw = (resources.files("prompts") / f"{name}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    return PromptTemplate(
        name=name,
        version=str(data["version"]),
        max_tokens=int(data["max_tokens"]),
        system=str(data["system"]),
        user=str(data["user"]),
    )
