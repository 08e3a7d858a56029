"""The clinical profile's part of the REST API under /api/v1 (see docs/api.md)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["clinical"])
