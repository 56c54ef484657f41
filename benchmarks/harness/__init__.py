"""The macro-benchmark harness behind ``python benchmarks/run.py``: pinned servers, wrk load, OTLP sink."""
