"""newsbrief's exceptions: one tree with a single root.

    BriefError
    ├── InputError             an input could not be read or holds no article
    │   └── NoUsableInputError nothing usable was left to brief
    ├── ModelError             a model call could not produce a usable reply
    │   ├── TransportError     the provider kept failing (after transport retries)
    │   ├── ReplyInvalidError  replies stayed invalid (after bounded re-asks)
    │   └── BudgetExceededError the run's token or cost cap stops further calls
    ├── LocalModelError        the embedded model cannot run
    │   ├── LocalModelMissingError  the ``local`` extra is not installed
    │   └── WeightsMismatchError    the assembled weights fail their sha256 check
    ├── BriefingError          no briefing could be composed from the claims
    └── DigestError            a digest run could not build its email
        ├── ConfigError        the digest configuration is missing or invalid (names key and line)
        ├── DeliveryError      the SMTP server did not take the email: it stays in the outbox
        ├── UndeliveredError   every recipient was refused: the stories stay unsent
        ├── StateError         the digest's state cannot be opened, read or written
        └── BusyError          another digest run holds the state's lock

Each error's message is one line, fit to show a user as it is.
"""


class BriefError(Exception):
    """Root of every error newsbrief raises on purpose."""


class InputError(BriefError):
    """An input could not be read, or holds no article text."""

    def __init__(self, subject: str, reason: str = "") -> None:
        super().__init__(f"{subject}: {reason}" if reason else subject)
        self.subject = subject
        """The input: a path, a URL, or a record or entry inside one."""
        self.reason = reason or subject
        """What is wrong with it and what to do, in one line."""


class NoUsableInputError(InputError):
    """No usable article was left to brief."""


class ModelError(BriefError):
    """A model call could not produce a usable reply."""


class TransportError(ModelError):
    """The provider kept failing after the transport retries."""


class ReplyInvalidError(ModelError):
    """The model's replies stayed invalid after the bounded re-asks."""

    def __init__(self, message: str, last_reply: str | None = None) -> None:
        super().__init__(message)
        self.last_reply = last_reply
        """The last invalid reply, for callers that can salvage part of it."""


class BudgetExceededError(ModelError):
    """The run's token or cost budget does not allow another call."""


class LocalModelError(BriefError):
    """The embedded local model cannot run."""


class LocalModelMissingError(LocalModelError):
    """The ``newsbrief[local]`` extra is not installed."""


class WeightsMismatchError(LocalModelError):
    """The assembled model weights do not have the pinned sha256."""


class BriefingError(BriefError):
    """No briefing could be composed."""


class DigestError(BriefError):
    """A digest run could not build its email (every story failed, or its state is unusable)."""


class ConfigError(DigestError):
    """The digest configuration is missing or invalid; the message names the key and line."""


class DeliveryError(DigestError):
    """The SMTP server did not take the email; it stays in the outbox for the next run."""


class UndeliveredError(DigestError):
    """The server refused the email for every recipient: nobody got it, so its stories stay
    unsent and go in the next run's email."""


class StateError(DigestError):
    """The digest's state (its folder, lock or database) cannot be opened, read or written."""


class BusyError(DigestError):
    """Another digest run holds the lock on the state; this one did nothing."""
