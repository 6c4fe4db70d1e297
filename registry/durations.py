"""Durations of ``min_soak`` (``<n>m``, ``<n>h``, ``<n>d``): read from settings, and printed
back the same way ("1h 5m") in what ``check``, ``deploy`` and ``status`` say."""

from __future__ import annotations

import math
import re

# At most six digits: 999999d is beyond any soak, and a longer number is a typo.
DURATION = re.compile(r"([0-9]{1,6})([mhd])", re.ASCII)
_UNIT = {"m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds of ``text`` (``90m``, ``1h``, ``2d``); ValueError when it is not one of those."""
    m = DURATION.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"expected a duration such as 30m, 1h or 2d, got {text!r}")
    return int(m.group(1)) * _UNIT[m.group(2)]


def format_duration(seconds: float, *, round_up: bool = False) -> str:
    """``seconds`` in whole minutes as ``2d 3h 5m`` (zero parts left out; ``0m`` for none);
    ``round_up`` for time still to wait, so that 30 seconds left never reads as ``0m``."""
    minutes = max(0, math.ceil(seconds / 60) if round_up else math.floor(seconds / 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return " ".join(parts) or "0m"
