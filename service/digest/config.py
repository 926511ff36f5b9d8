"""The digest configuration: one TOML file, validated by pydantic, errors naming key and line.

It reads the file and nothing else: SMTP settings are only the *names* of environment
variables (read when mail is sent, by :mod:`service.digest.send`), so no secret is ever in it.
"""

import re
import tomllib
import unicodedata
from email.errors import HeaderParseError
from email.headerregistry import Address as MailAddress
from email.utils import getaddresses
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from service._exceptions import ConfigError
from service.settings import Deployment

SINCE_LAST_RUN = "since-last-run"
_DURATION = re.compile(r"^(\d{1,4})\s*([hd])$")
_SECRET_KEYS = {"password", "pass", "secret", "token", "api_key"}

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
"""A variable name as the config takes it: capitals, digits and ``_`` (most passwords are not)."""
_NOT_IN_ADDRESS = ",;"
"""Separators of several addresses: an entry holding one is refused, not split."""


def _env_name(value: str) -> str:
    # never echo the value: a password put here by mistake must not reach an error or log
    if _ENV_NAME.fullmatch(value):
        return value
    raise ValueError(
        "the value looks like a secret, not a variable name (it is not shown): put the "
        "secret in an environment variable and give that variable's name here, in capitals "
        "(such as BRIEF_SMTP_PASSWORD)"
    )


EnvName = Annotated[str, AfterValidator(_env_name)]


def check_address(value: str) -> str:
    """``value`` if it is exactly one email address (``a@example.org`` or ``Name <a@...>``).

    Refused: line breaks and control characters, commas and semicolons, several addresses,
    a display name holding ``@`` or angle brackets (a name posing as an address), and an
    address that is not one plain ``local@domain``.
    """
    if any(unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" for c in value):
        raise ValueError(f"{value!r} holds a line break or control character")
    if any(c in value for c in _NOT_IN_ADDRESS):
        raise ValueError(f"{value!r} holds a comma or semicolon: give one address per entry")
    found = [(name, addr) for name, addr in getaddresses([value]) if name or addr]
    if len(found) != 1:
        raise ValueError(f"{value!r} is not one email address: give one address per entry")
    name, addr = found[0]
    if any(c in name for c in "@<>"):
        raise ValueError(f"{value!r}: the name before the address may not look like an address")
    _addr_spec(value, addr)
    return value


def _addr_spec(value: str, addr: str) -> None:
    local, at, domain = addr.rpartition("@")
    plain = addr.isascii() and local and at and ("." in domain or domain == "localhost")
    try:
        parsed = MailAddress(addr_spec=addr) if plain else None
    except (HeaderParseError, ValueError, IndexError):
        parsed = None
    if parsed is None or parsed.addr_spec != addr:
        raise ValueError(f"{value!r} is not an email address (name@example.org)")


Address = Annotated[str, AfterValidator(check_address)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class SmtpRef(_Strict):
    """Where the SMTP settings are: the names of the environment variables that hold them."""

    host_env: EnvName = "BRIEF_SMTP_HOST"
    """The variable holding the server's host name (required when mail is sent)."""
    port_env: EnvName = "BRIEF_SMTP_PORT"
    """The variable holding its port (default 587 for starttls, 465 for tls, 25 for none)."""
    security_env: EnvName = "BRIEF_SMTP_SECURITY"
    """The variable holding ``starttls`` (default), ``tls`` or ``none`` (loopback only)."""
    user_env: EnvName = "BRIEF_SMTP_USER"
    """The variable holding the login name; unset means no authentication."""
    password_env: EnvName = "BRIEF_SMTP_PASSWORD"
    """The variable holding the password."""


class ArchiveRef(_Strict):
    """Where the browsable archive of story pages goes (:mod:`service.digest.archive`)."""

    dir: Path
    """The folder; relative to the config's folder. ``--archive DIR`` overrides it."""
    base_url: str | None = None
    """Its public address (http or https), if it is published: the email's story titles
    link to the stories' pages there."""

    @field_validator("dir")
    @classmethod
    def _resolve(cls, folder: Path, info: ValidationInfo) -> Path:
        base: Path = (info.context or {}).get("base", Path.cwd())
        return base / folder.expanduser()

    @field_validator("base_url")
    @classmethod
    def _public(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^\s/?#]+[^\s?#]*$", url):
            raise ValueError(f"{url!r} is not an http(s) address without query or fragment")
        return url if url is None or url.endswith("/") else url + "/"


class DigestConfig(_Strict):
    """One digest: what it reads, who gets it, and how it is briefed."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")]
    """Its name, as in ``--digest NAME`` and the email's subject."""
    sources: list[str] = Field(min_length=1)
    """Folders, files, feeds and page URLs; relative paths are read from the config's folder."""
    recipients: list[Address] = Field(min_length=1)
    """Who gets the email; each is sent their own copy."""
    sender: Address = "newsbrief <newsbrief@localhost>"
    """The From address."""
    model: str | None = None
    """A litellm model string or ``embedded``; default: ``BRIEF_MODEL`` or the embedded model."""
    api_base: str | None = None
    """Base URL of an OpenAI-compatible server for the model."""
    deployments: list[Deployment] = []
    """Several servers or keys sharing the model's calls, instead of ``api_base``: each a base
    URL, or a table (``api_base``, ``model``, ``api_key_env``, ``max_in_flight``, ``rpm``)."""
    window: str = SINCE_LAST_RUN
    """Which articles count: ``since-last-run`` (not yet sent), or a duration such as ``36h``."""
    max_stories: int = Field(default=10, ge=1, le=100)
    """Stories per email, the most widely reported first; the rest are listed as left out."""
    max_articles_per_story: int = Field(default=8, ge=1, le=50)
    """Articles briefed per story, the newest first."""
    smtp: SmtpRef | None = None
    """This digest's SMTP variables, when not the file's ``[smtp]`` table."""
    archive: ArchiveRef | None = None
    """Where this digest's story pages go; default: the file's ``[archive]`` table, if any."""

    @field_validator("sources")
    @classmethod
    def _resolve(cls, sources: list[str], info: ValidationInfo) -> list[str]:
        base = (info.context or {}).get("base", Path.cwd())
        return [s if "://" in s else str(base / Path(s).expanduser()) for s in sources]

    @field_validator("window")
    @classmethod
    def _window(cls, window: str) -> str:
        if window != SINCE_LAST_RUN and not _DURATION.match(window):
            raise ValueError(f"{window!r}: use {SINCE_LAST_RUN!r} or a duration like '36h', '2d'")
        return window

    def window_hours(self) -> int | None:
        """The window in hours, or None for "since the last run"."""
        found = _DURATION.match(self.window)
        return int(found[1]) * (24 if found[2] == "d" else 1) if found else None


class DigestFile(_Strict):
    """The whole file: shared settings and any number of ``[[digest]]`` tables."""

    state_dir: Path | None = None
    """Where the state database lives; default ``BRIEF_DATA_DIR`` (the user data dir)."""
    smtp: SmtpRef = SmtpRef()
    """The SMTP variables of every digest that has no ``smtp`` table of its own."""
    archive: ArchiveRef | None = None
    """The archive of every digest that has no ``archive`` table of its own."""
    digest: list[DigestConfig] = Field(min_length=1)
    """The digests."""

    @model_validator(mode="before")
    @classmethod
    def _archive_default(cls, data: Any) -> Any:
        """Give the file's ``[archive]`` to each digest that has none."""
        shared = data.get("archive") if isinstance(data, dict) else None
        digests = data.get("digest") if isinstance(data, dict) else None
        if shared is None or not isinstance(digests, list):
            return data
        each = [d if not isinstance(d, dict) else {"archive": shared, **d} for d in digests]
        return {**data, "digest": each}

    def with_archive(self, folder: Path | None) -> "DigestFile":
        """Every digest archived into ``folder`` (keeping its base URL), or none when None."""
        digests = [
            d.model_copy(update={"archive": _archive_in(d.archive, folder)}) for d in self.digest
        ]
        return self.model_copy(update={"digest": digests})

    @model_validator(mode="after")
    def _unique(self) -> "DigestFile":
        names = [d.name for d in self.digest]
        if twice := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"digest names must be unique; repeated: {', '.join(twice)}")
        return self

    def smtp_for(self, digest: DigestConfig) -> SmtpRef:
        """The SMTP variables ``digest`` uses."""
        return digest.smtp or self.smtp

    def select(self, name: str | None) -> list[DigestConfig]:
        """The digest called ``name``, or every digest when ``name`` is None."""
        chosen = [d for d in self.digest if name is None or d.name == name]
        if not chosen:
            known = ", ".join(d.name for d in self.digest)
            raise ConfigError(f"no digest named {name!r} in the config (it has: {known})")
        return chosen


def _archive_in(archive: ArchiveRef | None, folder: Path | None) -> ArchiveRef | None:
    if folder is None:
        return None
    base_url = archive.base_url if archive is not None else None
    return ArchiveRef(dir=folder.resolve(), base_url=base_url)


def load_config(path: Path) -> DigestFile:
    """Read and validate ``path``; raise :class:`ConfigError` naming the file, line and key."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; write one (see README) or pass --config"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        loaded = DigestFile.model_validate(data, context={"base": path.parent})
    except ValidationError as error:
        raise ConfigError(_describe(path, text, error.errors()[0])) from None
    if loaded.state_dir is not None and not loaded.state_dir.is_absolute():
        loaded = loaded.model_copy(update={"state_dir": path.parent / loaded.state_dir})
    return loaded


def _describe(path: Path, text: str, problem: ErrorDetails) -> str:
    loc = tuple(problem["loc"])
    line = _line_of(loc, key_lines(text))
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {_dotted(loc) or 'file'}: {_message(loc, problem)}"


def _message(loc: tuple[Any, ...], problem: ErrorDetails) -> str:
    if problem["type"] == "extra_forbidden" and str(loc[-1]).lower() in _SECRET_KEYS:
        return (
            "no secret may be in the file: put it in an environment variable and name that "
            "variable with password_env"
        )
    if problem["type"] == "extra_forbidden":
        return "unknown key"
    return str(problem["msg"]).removeprefix("Value error, ")


def _dotted(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _line_of(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]\s](?:\s*[^\[\]\s])*)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\-\"'](?: *[A-Za-z0-9_.\-\"'])*)\s*=")
"""A table's name or a key, without the spaces around it: each run of spaces has one reading
(read before, inside or after a lazy name, a long run took time growing with its square, or
for a key its cube)."""


def key_lines(text: str) -> dict[tuple[Any, ...], int]:
    """The line (from 1) of each table and key, by its path, such as ``("digest", 0, "name")``.

    A small scanner, since tomllib keeps no positions: enough for error messages.
    """
    lines: dict[tuple[Any, ...], int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    table: tuple[Any, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        if header := _HEADER.match(line):
            table = _table_path(_names(header[2]), header[1] == "[[", arrays)
            lines.setdefault(table, number)
        elif key := _KEY.match(line):
            lines.setdefault((*table, *_names(key[1])), number)
    return lines


def _names(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in dotted.split("."))


def _table_path(
    names: tuple[str, ...], is_array: bool, arrays: dict[tuple[str, ...], int]
) -> tuple[Any, ...]:
    if is_array:
        arrays[names] = arrays.get(names, 0) + 1
    path: list[Any] = []
    for end in range(1, len(names) + 1):
        path.append(names[end - 1])
        if names[:end] in arrays:
            path.append(arrays[names[:end]] - 1)
    return tuple(path)
