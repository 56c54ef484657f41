"""Exceptions and warnings raised by spotify-otel."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is invalid.

    The message names the setting, the offending value, where it came from (keyword argument or
    environment variable) and what is accepted.
    """

    def __init__(self, setting: str, value: object, source: str, accepted: str) -> None:
        self.setting = setting
        self.value = value
        self.source = source
        self.accepted = accepted
        super().__init__(
            f"invalid value for setting {setting!r} from {source}: {value!r}; accepted: {accepted}"
        )


class SpotifyOtelWarning(UserWarning):
    """Warnings about spotify-otel usage (for example a second ``init_telemetry`` call)."""
