"""The absolute URL of a Django request, as matched against the excluded-URL patterns.

Both Django middlewares (tenant/metrics and server span) decide exclusion on
``request.build_absolute_uri("?")``; for an ordinary path the same string is built here without
``urljoin`` (about 3 us), and the tenant middleware's decision is kept on the request for the other.
The tenant middleware also remembers decisions per scheme, host and path inputs
(:class:`ExclusionDecisions`): Django's scheme, validated host and IRI quoting cost ~7 us per request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.utils.encoding import iri_to_uri

_URLJOIN_CHANGES = re.compile(r"[#;?\t\r\n]")  # characters urljoin() drops or splits on


def exclusion_url(request: Any) -> str:
    """``request.build_absolute_uri("?")``; raises what it raises (``DisallowedHost``)."""
    path = request.path
    if _URLJOIN_CHANGES.search(path) is not None:
        return str(request.build_absolute_uri("?"))
    try:
        scheme_host = request._current_scheme_host  # Django's cached "scheme://validated-host"
    except AttributeError:  # a Django without it
        return str(request.build_absolute_uri("?"))
    return str(iri_to_uri(scheme_host + path))


_MISSING = object()
_generation = [0]  # bumped whenever Django reports a changed setting (override_settings in tests)


def _settings_changed(**kwargs: Any) -> None:
    _generation[0] += 1


setting_changed.connect(_settings_changed, dispatch_uid="spotify_otel.exclusion_decisions")


def _inputs(request: Any) -> tuple[Any, ...] | None:
    """Everything Django's ``scheme``, ``get_host()`` and ``path`` read for a request of Django's own
    classes (``None`` for any other class, which may override them)."""
    kind = type(request)
    if kind is WSGIRequest:
        scheme = request.environ.get("wsgi.url_scheme")
    elif kind is ASGIRequest:
        scheme = request.scope.get("scheme")
    else:
        return None
    meta = request.META
    proxy = settings.SECURE_PROXY_SSL_HEADER
    forwarded_proto = None
    if proxy:
        if not (isinstance(proxy, tuple | list) and len(proxy) == 2):
            return None  # misconfigured: Django raises, every time
        forwarded_proto = meta.get(proxy[0], _MISSING)
    return (request.path, scheme, forwarded_proto, meta.get("HTTP_HOST", _MISSING), meta.get("SERVER_NAME", _MISSING),
            meta.get("SERVER_PORT", _MISSING), meta.get("HTTP_X_FORWARDED_HOST", _MISSING),
            meta.get("HTTP_X_FORWARDED_PORT", _MISSING))


class ExclusionDecisions:
    """Whether a request's URL is excluded, and its scheme, remembered per scheme, host and path inputs.

    Building the absolute URL costs Django ~7 us per request (the scheme, the host validated against
    ``ALLOWED_HOSTS``, IRI quoting); requests repeat a handful of hosts and paths. The memo is keyed by
    every ``request.META`` entry and attribute those read, is used only for Django's own request classes,
    forgets everything when a setting changes or when it holds ``limit`` entries (paths are chosen by
    clients), and never remembers a request Django refuses (``DisallowedHost``): those are decided
    again each time, as before.
    """

    def __init__(self, is_excluded: Callable[[str], bool], limit: int = 4096) -> None:
        self._is_excluded = is_excluded
        self._limit = limit
        self._memo: dict[tuple[Any, ...], tuple[bool, str | None]] = {}
        self._generation = _generation[0]

    def decide(self, request: Any) -> tuple[bool, str | None]:
        """``(excluded, request.scheme)``; ``(False, None)`` when Django refuses the host or the scheme
        setting."""
        key = _inputs(request)
        if key is not None:
            if self._generation != _generation[0]:
                self._memo, self._generation = {}, _generation[0]
            try:
                known = self._memo.get(key)
            except TypeError:  # a META value that cannot be hashed (not from a WSGI/ASGI server)
                key = known = None
            if known is not None:
                return known
        try:
            decision = (bool(self._is_excluded(exclusion_url(request))), request.scheme)
        except Exception:  # DisallowedHost and friends: let Django answer, with telemetry
            return False, None
        if key is not None:
            if len(self._memo) >= self._limit:
                self._memo = {}
            self._memo[key] = decision
        return decision
