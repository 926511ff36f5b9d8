"""What the ``brief`` and ``brief digest`` commands share: exit codes, errors, progress, the group.

It may touch click, the settings and the exception tree; never the pipeline's stages.
"""

import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from pydantic import TypeAdapter, ValidationError

from service._exceptions import (
    BriefError,
    BusyError,
    ConfigError,
    DeliveryError,
    InputError,
    LocalModelError,
    StateError,
    UndeliveredError,
)
from service.settings import Deployment, Settings

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_NO_INPUT = 3
EXIT_MODEL = 4
EXIT_LOCAL_MODEL = 5
EXIT_DELIVERY = 6
EXIT_BUSY = 7
EXIT_UNDELIVERED = 8
EXIT_STATE = 9
EXIT_INTERRUPTED = 130

_EXIT_CODES: tuple[tuple[type[BriefError], int], ...] = (
    (LocalModelError, EXIT_LOCAL_MODEL),
    (InputError, EXIT_NO_INPUT),
    (ConfigError, EXIT_USAGE),
    (DeliveryError, EXIT_DELIVERY),
    (BusyError, EXIT_BUSY),
    (UndeliveredError, EXIT_UNDELIVERED),
    (StateError, EXIT_STATE),
)


def exit_code(error: BriefError) -> int:
    """The documented exit code for ``error``; model and briefing failures are 4."""
    return next((code for kind, code in _EXIT_CODES if isinstance(error, kind)), EXIT_MODEL)


def settings_from(overrides: dict[str, Any]) -> Settings:
    """Settings from the environment and the given options, or a one-line usage error."""
    given = {k: v for k, v in overrides.items() if v is not None and v != ()}
    try:
        return Settings(**given)
    except ValidationError as error:
        problem = error.errors()[0]
        name = "BRIEF_" + "_".join(str(p) for p in problem["loc"]).upper()
        raise click.UsageError(f"{name}: {problem['msg']}") from None


class BarProgress:
    """Progress on stderr, one click progress bar per stage."""

    def __init__(self) -> None:
        self._bar: Any = None

    def stage(self, name: str, total: int) -> None:
        self.close()
        self._bar = click.progressbar(length=total, label=name, file=sys.stderr, show_pos=True)
        self._bar.__enter__()

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


class DefaultGroup(click.Group):
    """A group that hands any arguments not starting with a subcommand's name to a default one.

    So ``brief PATHS...``, a bare ``brief`` (its usage error) and ``brief --help`` (its help)
    reach the briefing command exactly as before the group existed, and ``brief digest ...``
    reaches the digest commands. A small subclass rather than click-default-group: that
    package answers a bare ``--help`` with the group's help, not the default command's.
    """

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = [self.default, *args]
        return super().parse_args(ctx, args)


class _AtRoot(click.Context):
    @property
    def command_path(self) -> str:
        return self.parent.command_path if self.parent else super().command_path


class RootUsage(click.Command):
    """A default command that reads as the program itself: ``brief [OPTIONS] ...`` in its usage
    and hints, not ``brief brief``."""

    context_class = _AtRoot


def load_deployments(path: Path) -> list[Deployment]:
    """The ``[[deployment]]`` tables of a TOML file, or a one-line usage error naming it."""
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8")).get("deployment")
        return TypeAdapter(list[Deployment]).validate_python(tables)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise click.BadParameter(f"{path}: {error}", param_hint="--deployments") from None
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        message = f"{path}: deployment {where}: {problem['msg']}"
        raise click.BadParameter(message, param_hint="--deployments") from None


def deployment_options(api_bases: Sequence[str], file: Path | None) -> dict[str, Any]:
    """Settings from ``--api-base`` (one: a server; several: deployments) and ``--deployments``."""
    listed = [
        *(load_deployments(file) if file else []),
        *(Deployment(api_base=u) for u in api_bases),
    ]
    if len(listed) > 1 or file is not None:
        return {"deployments": listed}
    return {"api_base": api_bases[0] if api_bases else None}
