"""ML models: inference latency, prediction outcomes, feature drift."""

from __future__ import annotations

from .. import links
from .. import promql as pq
from ..board import Board, query_variable
from ..panels import Q, stat, table, timeseries
from ..thresholds import DRIFT_KS, DRIFT_PSI, ML_ERROR_RATIO, ML_LATENCY_P95

INFERENCE = "spotify_ml_inference_duration_seconds"
MODEL = 'ml_model_name=~"$model"'
PREDICTIONS = pq.sel("spotify_ml_predictions_total", MODEL, tenant=True)
PSI = pq.sel("spotify_ml_drift_score", MODEL, 'ml_drift_method="psi"')
KS = pq.sel("spotify_ml_drift_score", MODEL, 'ml_drift_method="ks"')
BY_MODEL = ("ml_model_name", "ml_model_version")
DRIFT_LABELS = "ml_model_name, ml_model_version, ml_feature"
PSI_MODERATE, PSI_SIGNIFICANT = DRIFT_PSI.level("info"), DRIFT_PSI.level("warning")


def build() -> Board:
    """The ML models dashboard."""
    b = Board(
        "spotify-ml",
        "ML models",
        "Are the models fast and healthy, and has the live input drifted away from the training data?",
        f"Drift: PSI below {PSI_MODERATE:g} is stable, {PSI_MODERATE:g}-{PSI_SIGNIFICANT:g} a moderate "
        f"shift, above {PSI_SIGNIFICANT:g} a significant shift: retrain or investigate the feature. KS is "
        "the Kolmogorov-Smirnov distance of numeric features (0 = same distribution).",
        tags=("ml",),
        extra_variables=(
            query_variable(
                "model", "Model", 'label_values(spotify_ml_predictions_total{job=~"$service"}, ml_model_name)'
            ),
        ),
    )
    b.row("Inference")
    b.add(
        timeseries(
            "Inference latency percentiles",
            "p50, p95 and p99 of model inference duration; exemplars open the trace.",
            "s",
            [
                Q(pq.quantile(q, INFERENCE, MODEL), name, exemplar=True)
                for q, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99"))
            ],
            colours=("p50", "p95", "p99"),
            threshold=ML_LATENCY_P95,
            links=[links.traces()],
        )
    )
    b.add(
        timeseries(
            "Inference p95 by model version",
            "95th percentile inference duration per model and version.",
            "s",
            [
                Q(
                    pq.quantile(0.95, INFERENCE, MODEL, by=BY_MODEL),
                    "{{ml_model_name}} {{ml_model_version}}",
                    exemplar=True,
                )
            ],
            threshold=ML_LATENCY_P95,
            links=[links.traces()],
        )
    )
    b.add(
        timeseries(
            "Predictions by outcome",
            "Predictions per second per model and outcome.",
            "cps",
            [Q(pq.sum_rate(PREDICTIONS, ("ml_model_name", "outcome")), "{{ml_model_name}} {{outcome}}")],
            stack=True,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Prediction error ratio",
            "Share of predictions with outcome=error per model.",
            "percentunit",
            [
                Q(
                    pq.ratio(
                        pq.sel("spotify_ml_predictions_total", MODEL, 'outcome="error"', tenant=True),
                        PREDICTIONS,
                        ("ml_model_name",),
                    ),
                    "{{ml_model_name}}",
                )
            ],
            threshold=ML_ERROR_RATIO,
        ),
        w=8,
    )
    b.add(
        timeseries(
            "Predictions by tenant",
            "Predictions per second per tenant.",
            "cps",
            [Q(pq.sum_rate(PREDICTIONS, ("tenant_id",)), "{{tenant_id}}")],
            links=[links.tenant_logs()],
        ),
        w=8,
    )
    b.row("Drift")
    b.add(
        stat(
            "Features drifting (PSI)",
            f"Features whose PSI is above {PSI_SIGNIFICANT:g} now.",
            "short",
            [Q(f"count({PSI} > {PSI_SIGNIFICANT:g}) or vector(0)")],
            threshold=None,
            sparkline=False,
        ),
        w=4,
    )
    b.add(
        timeseries(
            "Drift PSI by feature",
            "Population stability index of each feature's live window against its reference.",
            "none",
            [Q(f"max by ({DRIFT_LABELS}) ({PSI})", "{{ml_model_name}} {{ml_model_version}} {{ml_feature}}")],
            threshold=DRIFT_PSI,
        ),
        w=10,
    )
    b.add(
        timeseries(
            "Drift KS by feature",
            "Kolmogorov-Smirnov distance of numeric features (0..1).",
            "none",
            [Q(f"max by ({DRIFT_LABELS}) ({KS})", "{{ml_model_name}} {{ml_model_version}} {{ml_feature}}")],
            threshold=DRIFT_KS,
            max_value=1,
        ),
        w=10,
    )
    b.add(
        table(
            "Current drift",
            "Latest drift score per model, version, feature and method.",
            "none",
            [
                Q(
                    f"max by ({DRIFT_LABELS}, ml_drift_method) ({pq.sel('spotify_ml_drift_score', MODEL)})",
                    instant=True,
                    fmt="table",
                )
            ],
            columns={
                "ml_model_name": "Model",
                "ml_model_version": "Version",
                "ml_feature": "Feature",
                "ml_drift_method": "Method",
                "Value": "Score",
            },
        ),
        w=24,
    )
    return b
