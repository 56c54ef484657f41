"""The example's platform telemetry: business KPIs, security, ML drift, defined once for the app."""

from __future__ import annotations

import random

from spotify_otel import AlertManager, MetricsCollector, MLMonitor, SecurityMonitor

business = MetricsCollector()
security = SecurityMonitor(threshold=20, window_seconds=10)  # low threshold so the demo shows abuse
ml = MLMonitor(window_size=500, min_samples=30)
alerts = AlertManager(timeout=1.0, retries=1)  # ALERTMANAGER_URL

MODEL, VERSION = "recommender", "v3"
_rng = random.Random(42)
# Reference distributions, as they were in the training data.
ml.set_reference(MODEL, VERSION, "tempo", [_rng.gauss(120, 12) for _ in range(2000)])
ml.set_reference(MODEL, VERSION, "genre", [_rng.choice(["jazz", "jazz", "electronic", "trip-hop"])
                                           for _ in range(2000)])
