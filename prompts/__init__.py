"""Prompt templates, as data: one TOML file per model call.

Each file holds ``version`` (part of the cache key: bump it when the wording changes),
``max_tokens``, and Jinja2 templates ``system`` and ``user``. Article text only ever
enters through template variables, inside delimiters, never as instructions.
"""
