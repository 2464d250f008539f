"""The installation's settings that services apply themselves, whichever front end calls them.

Services never read Flask's configuration: `create_app` hands them these values once, from the
configuration (defaults < PLANFLOW_* environment < overrides), as it hands the zone to `clock`.
Keep it small: a setting belongs here only when a service needs it to give every front end the
same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import config

# The bounds of a cycle's escalation days, for the setting and for a per-cycle value alike.
ESCALATION_DAYS_RANGE = (1, 365)


@dataclass(frozen=True)
class Installation:
    # Days a red deviation may wait for a steering-group decision before it is escalated, for a
    # cycle whose starter (page, API, command line or the schedule) names none (ESCALATION_DAYS).
    escalation_days: int

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> Installation:
        """The settings from an app's configuration; ValueError naming the setting when one is wrong."""
        days = settings["ESCALATION_DAYS"]
        low, high = ESCALATION_DAYS_RANGE
        if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
            raise ValueError(
                f"{config.PREFIX}ESCALATION_DAYS must be a whole number from {low} to {high}, not {days!r}"
            )
        return cls(escalation_days=days)


_current = Installation.from_config(config.DEFAULTS)


def configure(settings: Mapping[str, Any]) -> Installation:
    """Let services apply the settings of `settings` (an app's configuration) from now on."""
    global _current
    _current = Installation.from_config(settings)
    return _current


def current() -> Installation:
    """The settings services apply now."""
    return _current
