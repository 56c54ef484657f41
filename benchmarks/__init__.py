"""Benchmarks of spotify-otel (see README.md in this folder)."""
