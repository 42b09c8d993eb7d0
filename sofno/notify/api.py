"""This app's API endpoints (mounted under /api/v1 by sofno.api)."""

from ninja import Router

router = Router()
