"""Routes of the music example (the same as the FastAPI twin in ``examples/fastapi_app``)."""

from __future__ import annotations

from django.urls import path
from music import views

urlpatterns = [
    path("health", views.health),
    path("api/tracks/<int:track_id>", views.track),
    path("api/search", views.search),
    path("api/recommendations", views.recommendations),
    path("internal/recommendations", views.internal_recommendations),
    path("api/fail", views.fail),
    path("api/jobs/refresh", views.refresh),
]
