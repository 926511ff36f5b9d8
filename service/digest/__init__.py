"""The nightly email digest: each story of the day briefed, with citations, in one email.

config.py   the TOML file (pydantic; errors name key and line; SMTP only by env var name)
stories.py  grouping articles into stories with ids stable across runs (pure)
state.py    SQLite: runs, articles and stories, the outbox and each recipient's delivery
edition.py  what one email holds (plain data)
layout.py   HTML (Jinja2, autoescaped, CSS inlined) and plain text
mail.py     the multipart message and its safe headers; the Message-ID
send.py     SMTP with STARTTLS or TLS and a login read from the environment
archive.py  the optional HTML archive: each story's page, every version kept, and index pages
collect.py  the queries: collect the articles in the window, group them, choose the stories
run.py      the steps: collect → group → brief → archive → build → store → send → record
cli.py      ``brief digest run`` and ``brief digest status``

>>> from service.digest import load_config, run_digests     # doctest: +SKIP
>>> run_digests(load_config(path), Settings(), dry_run=True)  # doctest: +SKIP
"""

from service.digest.config import DigestConfig, DigestFile, load_config
from service.digest.run import Outcome, run_digests

__all__ = ["DigestConfig", "DigestFile", "Outcome", "load_config", "run_digests"]
