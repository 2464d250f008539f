"""Use cases as plain functions taking a Session; the caller owns the transaction."""

# The modules whose @on_complete / @on_passed handlers the engine's steps dispatch to: importing
# the services package registers them, whichever entry point (web, CLI, scheduler) comes first.
from . import annual, cycles, deviations, proposals  # noqa: F401
