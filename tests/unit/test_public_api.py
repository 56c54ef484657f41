"""The public surface is explicit and pinned."""

import spotify_otel


def test_all_is_sorted_and_pinned() -> None:
    assert spotify_otel.__all__ == sorted(spotify_otel.__all__)
    assert spotify_otel.__all__ == [
        "AlertManager", "ConfigError", "MLMonitor", "MetricsCollector", "SecurityMonitor", "SpotifyOtelWarning",
        "Telemetry", "__version__", "bind_tenant", "bind_tenant_from_claims",
        "current_tenant", "get_telemetry", "init_telemetry", "tenant_context",
    ]
    for name in spotify_otel.__all__:
        assert getattr(spotify_otel, name) is not None


def test_public_functions_have_docstrings() -> None:
    for name in spotify_otel.__all__:
        obj = getattr(spotify_otel, name)
        if callable(obj):
            assert obj.__doc__, name
