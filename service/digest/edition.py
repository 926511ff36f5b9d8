"""One edition of a digest: the stories it sends and what it left out. Plain data, no I/O."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from schemas import Briefing


class StoryStatus(StrEnum):
    """Whether a story's readers meet it for the first time."""

    NEW = "new"
    """Never sent before."""
    UPDATED = "updated"
    """Sent before, with articles added since."""


NEW, UPDATED = StoryStatus.NEW, StoryStatus.UPDATED


@dataclass(frozen=True)
class StoryBrief:
    """A briefed story, as the email shows it."""

    story_id: str
    status: StoryStatus
    briefing: Briefing
    outlets: int
    """Distinct outlets among its articles."""
    since: list[str] = field(default_factory=list)
    """For an updated story: the articles added since it was last sent (outlet: headline)."""
    last_sent: datetime | None = None
    """When it was last sent, for an updated story."""


@dataclass(frozen=True)
class LeftOut:
    """A story or input that is not in the email, and why."""

    subject: str
    reason: str


@dataclass(frozen=True)
class Edition:
    """What one email of a digest holds."""

    digest: str
    made: datetime
    number: int
    """1 for the day's first email of this digest, 2 for a second one, ..."""
    stories: list[StoryBrief]
    left_out: list[LeftOut] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)
    """Story id → the public URL of its page in the archive, where it has one."""
