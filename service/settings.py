"""Settings, from ``BRIEF_*`` environment variables, read when a run starts (never at import)."""

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas._docs import Described

EMBEDDED = "embedded"
"""The model name that selects the embedded local model."""
MAX_ARTICLES = 200
"""Articles read per run by default (the newest): each costs a model call."""
MAX_ARTICLES_PER_FEED = 100
"""Entries read per feed by default (the newest): a feed may list thousands."""


def default_cache_dir() -> Path:
    """The per-user cache directory shared by the API, the CLI and the digest."""
    return Path(platformdirs.user_cache_dir("newsbrief"))


def default_data_dir() -> Path:
    """The per-user data directory: where the digest keeps its state."""
    return Path(platformdirs.user_data_dir("newsbrief"))


def default_digest_config() -> Path:
    """The digest configuration file read when ``--config`` is not given."""
    return Path(platformdirs.user_config_dir("newsbrief")) / "digest.toml"


class Deployment(Described, BaseModel):
    """One server or provider key serving the run's model; several share its calls.

    Given as a table, or as a bare string that is its ``api_base``. See
    :mod:`service.deployments` for how calls are shared among them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_base: str | None = None
    """Its base URL (an OpenAI-compatible server); none for a provider's own endpoint."""
    model: str | None = None
    """Its litellm model string, where it differs from the run's (a provider's deployment
    name); it must serve the same model: replies are cached under the run's model."""
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")
    """The name of the environment variable holding its API key (never the key itself)."""
    max_in_flight: int | None = Field(default=None, ge=1, le=64)
    """Calls sent to it at once, at most; the next waits for one to finish. Default: no limit."""
    rpm: int | None = Field(default=None, ge=1)
    """Calls sent to it per minute (any 60 s), at most. Default: no limit."""

    @model_validator(mode="before")
    @classmethod
    def _bare_url(cls, value: object) -> object:
        return {"api_base": value} if isinstance(value, str) else value


class Settings(Described, BaseSettings):
    """How a run behaves. Every field can be set as ``BRIEF_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="BRIEF_")

    model: str = EMBEDDED
    """A litellm model string, or ``embedded`` for the bundled local model."""
    api_base: str | None = None
    """Base URL of an OpenAI-compatible server, for models that need one."""
    deployments: list[Deployment] = []
    """Several servers or keys sharing the model's calls (JSON list in env); with none, calls
    go to ``api_base`` alone."""
    deployment_cooldown: float = Field(default=10.0, ge=0)
    """Seconds a deployment whose call failed is left out before it is tried again."""
    fallback_models: list[str] = []
    """litellm model strings tried in order when the model keeps failing (JSON list in env)."""
    max_tokens_per_run: int | None = Field(default=None, ge=1)
    """Token budget of a run, retries and fallbacks included; never exceeded."""
    max_cost_per_run: float | None = Field(default=None, gt=0)
    """Cost budget of a run in USD, where prices are known; no call starts past it."""
    cache_dir: Path = Field(default_factory=default_cache_dir)
    """Where model replies and the assembled local weights are kept."""
    use_cache: bool = True
    """Read and write the reply cache."""
    concurrency: int | None = Field(default=None, ge=1, le=64)
    """Model calls in flight at once; default 1 for the embedded model (one CPU-bound
    server), 16 otherwise (well inside hosted rate limits)."""
    reasks: int = Field(default=2, ge=0, le=5)
    """How many times an invalid reply is re-asked before giving up."""
    transport_retries: int = Field(default=3, ge=0, le=10)
    """How many times a failed call (rate limit, timeout, 5xx) is retried."""
    timeout: float = Field(default=300.0, gt=0)
    """Seconds one model call may take."""
    retry_wait_max: float = Field(default=30.0, ge=0)
    """Longest wait between transport retries, Retry-After included (seconds)."""
    local_engine: Literal["llama-cpp-python", "llama-server"] = "llama-cpp-python"
    """The embedded model's server: llama-cpp-python's, or llama.cpp's own ``llama-server``
    (``make llama-server`` builds it into the virtual environment; see BENCHMARKS.md)."""
    local_threads: int | None = Field(default=None, ge=1)
    """CPU threads for the embedded model; default: every CPU this process may use."""
    local_follow_load: bool = True
    """Let the embedded model's threads follow the CPUs it gets (re-read twice a second: one
    fewer while another process crowds one), unless ``local_threads`` fixes them."""
    local_wait_policy: Literal["active", "passive"] | None = None
    """``OMP_WAIT_POLICY`` of the embedded model's threads; default: libgomp's."""
    local_spin_count: int | None = Field(default=10_000, ge=0)
    """``GOMP_SPINCOUNT`` of the embedded model's threads: how long one spins waiting for the
    others before it sleeps (None: libgomp's 300,000, which on a busy machine spins for a
    descheduled thread; BENCHMARKS.md section 8)."""
    local_server_args: list[str] = []
    """More flags for the embedded model's server (``llama_cpp.server``), as a JSON list."""
    local_context: int = Field(default=8192, ge=2048)
    """Context window of the embedded model, in tokens."""
    glob: str | None = None
    """Only read files in folders whose name matches this pattern, e.g. ``*.html``."""
    allow_private_urls: bool = False
    """Fetch URLs on private, loopback and link-local addresses (off: feeds are untrusted)."""
    max_articles: int = Field(default=MAX_ARTICLES, ge=1)
    """Articles read per run, the newest; the rest are listed as skipped."""
    max_articles_per_feed: int = Field(default=MAX_ARTICLES_PER_FEED, ge=1)
    """Entries read per feed, the newest; the rest are listed as skipped."""
    local_url: str | None = None
    """Use an already running server of the embedded model at this URL instead of starting one."""
    data_dir: Path = Field(default_factory=default_data_dir)
    """Where the digest keeps its state (runs, stories, outbox), unless its config says."""
    digest_config: Path = Field(default_factory=default_digest_config)
    """The digest configuration file read when ``brief digest`` gets no ``--config``."""

    def effective_concurrency(self) -> int:
        """The concurrency to use for this model."""
        if self.concurrency is not None:
            return self.concurrency
        limits = [d.max_in_flight for d in self.deployments]
        if limits and None not in limits:
            return min(sum(d or 0 for d in limits), 64)  # every deployment's calls, no more
        return 1 if self.model == EMBEDDED and not limits else 16
