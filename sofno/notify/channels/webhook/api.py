"""Webhook endpoints, their deliveries and attempts under /api/v1."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, actor
from sofno.core.pagination import Pages
from sofno.notify.channels.webhook import actions
from sofno.notify.channels.webhook.schemas import (
    DeliveryDetail,
    DeliveryOut,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    SecretOut,
)
from sofno.notify.models import Delivery, DeliveryStatus, WebhookEndpoint

router = Router(tags=["webhooks"])


def _endpoint(request: HttpRequest, endpoint_id: UUID) -> WebhookEndpoint:
    return get_scoped_or_404(WebhookEndpoint.objects.all(), actor(request), public_id=endpoint_id)


def _fields(payload) -> dict:
    fields = payload.dict(exclude_unset=True)
    if fields.get("parameters") is not None:
        fields["parameters"] = [dict(p) for p in fields["parameters"]]
    return fields


@router.get("/webhooks", response=list[EndpointOut])
def list_endpoints(request: HttpRequest):
    return WebhookEndpoint.objects.filter(organization=actor(request).organization)


@router.post("/webhooks", response={201: EndpointCreated, **ERRORS})
def create_endpoint(request: HttpRequest, payload: EndpointIn):
    """Create an endpoint; the answer carries its ``whsec_`` signing secret."""
    fields = _fields(payload)
    return Status(201, actions.create_endpoint(acting_user=actor(request), fields=fields))


@router.get("/webhooks/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def get_endpoint(request: HttpRequest, endpoint_id: UUID):
    return _endpoint(request, endpoint_id)


@router.patch("/webhooks/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def update_endpoint(request: HttpRequest, endpoint_id: UUID, payload: EndpointPatch):
    endpoint = _endpoint(request, endpoint_id)
    return actions.update_endpoint(
        acting_user=actor(request), endpoint=endpoint, fields=_fields(payload)
    )


@router.delete("/webhooks/{endpoint_id}", response={204: None, **ERRORS})
def delete_endpoint(request: HttpRequest, endpoint_id: UUID):
    actions.delete_endpoint(acting_user=actor(request), endpoint=_endpoint(request, endpoint_id))
    return Status(204, None)


@router.get("/webhooks/{endpoint_id}/secret", response={200: SecretOut, **ERRORS})
def get_secret(request: HttpRequest, endpoint_id: UUID):
    """The signing secrets (administrators only)."""
    who = actor(request)
    endpoint = _endpoint(request, endpoint_id)
    who.require_admin()
    live = endpoint.signing_secrets()
    return {"secret": live[0] if live else "", "previous": live[1:]}


@router.post("/webhooks/{endpoint_id}/secret/rotate", response={200: SecretOut, **ERRORS})
def rotate_secret(request: HttpRequest, endpoint_id: UUID):
    """A new secret; the previous one keeps signing (as a second signature) for 24 h."""
    endpoint = _endpoint(request, endpoint_id)
    actions.rotate_secret(acting_user=actor(request), endpoint=endpoint)
    live = endpoint.signing_secrets()
    return {"secret": live[0], "previous": live[1:]}


@router.post("/webhooks/{endpoint_id}/test", response={202: DeliveryOut, **ERRORS})
def send_test(request: HttpRequest, endpoint_id: UUID):
    """Queue a ``webhook.test`` event for this endpoint only."""
    endpoint = _endpoint(request, endpoint_id)
    return Status(202, actions.send_test(acting_user=actor(request), endpoint=endpoint))


@router.get("/webhooks/{endpoint_id}/deliveries", response={200: list[DeliveryOut], **ERRORS})
@paginate(Pages)
def list_deliveries(request: HttpRequest, endpoint_id: UUID, status: DeliveryStatus | None = None):
    """An endpoint's deliveries, newest first (``status=failed`` lists dead letters)."""
    endpoint = _endpoint(request, endpoint_id)
    deliveries = endpoint.deliveries.select_related("event", "endpoint").order_by("-created_at")
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def _delivery(request: HttpRequest, delivery_id: UUID) -> Delivery:
    deliveries = Delivery.objects.select_related("event", "endpoint")
    return get_scoped_or_404(deliveries, actor(request), public_id=delivery_id)


@router.get("/deliveries/{delivery_id}", response={200: DeliveryDetail, **ERRORS})
def get_delivery(request: HttpRequest, delivery_id: UUID):
    """A delivery with every attempt (status code, duration, response excerpt)."""
    return _delivery(request, delivery_id)


@router.post("/deliveries/{delivery_id}/replay", response={202: DeliveryOut, **ERRORS})
def replay_delivery(request: HttpRequest, delivery_id: UUID):
    """Send a delivery again now (same ``webhook-id``); its attempt is marked manual."""
    delivery = _delivery(request, delivery_id)
    return Status(202, actions.replay(acting_user=actor(request), delivery=delivery))
