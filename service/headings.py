"""The headings a briefing's readers see that code writes, not the composer: defined once.

Compose refuses them to a composed section, assemble names the section of claims it adds,
and every renderer (Markdown, the digest's email) writes them; none of these imports another
for a heading.
"""

FILL_HEADING = "Also reported"
"""The section of claims added by code when the composed draft was too thin."""
DIFFER_HEADING = "Where sources differ"
SOURCES_HEADING = "Sources"
SKIPPED_HEADING = "Skipped and set aside"
RESERVED_HEADINGS = frozenset(
    h.lower() for h in (FILL_HEADING, DIFFER_HEADING, SOURCES_HEADING, SKIPPED_HEADING)
)
"""Headings the renderers write themselves; a composed section may not take them."""
