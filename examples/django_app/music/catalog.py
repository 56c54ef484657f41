"""In-memory catalogue (no database needed); the same data as the FastAPI twin."""

from __future__ import annotations

TRACKS: dict[int, dict[str, object]] = {
    1: {"id": 1, "title": "Blue in Green", "artist": "Miles Davis", "genre": "jazz"},
    2: {"id": 2, "title": "Teardrop", "artist": "Massive Attack", "genre": "trip-hop"},
    3: {"id": 3, "title": "Windowlicker", "artist": "Aphex Twin", "genre": "electronic"},
    4: {"id": 4, "title": "So What", "artist": "Miles Davis", "genre": "jazz"},
}


def search(query: str) -> list[dict[str, object]]:
    """Tracks whose title or artist contains ``query`` (case-insensitive)."""
    q = query.lower()
    return [t for t in TRACKS.values() if q in str(t["title"]).lower() or q in str(t["artist"]).lower()]


def recommend(genre: str | None) -> list[dict[str, object]]:
    """Tracks of ``genre`` (all tracks when ``None``)."""
    return [t for t in TRACKS.values() if genre is None or t["genre"] == genre]
