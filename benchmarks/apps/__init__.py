"""The applications under test: one route, identical in every variant, only the telemetry differs."""
