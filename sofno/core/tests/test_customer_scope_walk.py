"""A customer user sees nothing of another customer and nothing staff-only: a walk over
EVERY GET of the API (generated from ``/api/openapi.json``) and of the pages (generated
from Django's URL resolver).

- The world: the demo organization's data (every app's demo seeder, so what others
  add to the demo is walked too), plus a customer ``ZZOTHER`` and staff-only objects
  (webhook with a secret header, consumer, trigger, rule, SMTP profile, command,
  call, on-call person, API key, custom event type) whose texts carry the markers
  ``ZZOTHER`` / ``ZZSTAFF``. The customer user ``carla`` belongs to one demo customer.
- Forbidden in any answer: the markers, the names, phones and emails of the other
  customers, the on-call feed tokens and webhook secrets, and the public id of every
  row carla may not read (every model with a ``public_id``: rows outside her
  customer for customer-scoped models, other people's rows for person-owned ones,
  all rows of staff-only models).
- Every path parameter is filled with a pool holding one forbidden and one visible
  row of every such model, so a new endpoint is walked with real ids without
  anyone adding it here.
- Fail closed: an operation or page not marked ``@customer_access`` must answer 403.
- The control: the organization's owner, walking the parameterless API lists, does
  meet every marker, so the markers are where the walk looks.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.models import ApiKey, Role
from sofno.core.scoping import allows_customers, visible_to
from sofno.core.testing import make_user

OTHER, STAFF = "ZZOTHER", "ZZSTAFF"
API_PREFIX = "/api"


@dataclass
class World:
    carla: object
    mine: object
    forbidden: set[str] = field(default_factory=set)
    pool: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


def _seed_demo(org, owner) -> None:
    from sofno.core.hooks import DEMO_SEEDERS
    from sofno.core.management.commands.demo import _run_seeder

    for seed in DEMO_SEEDERS:
        if seed.__module__ == "sofno.oncall.demo":
            continue  # its timetable solver takes seconds; the walk seeds on-call itself
        _run_seeder(seed, org, owner)


def _seed_other_customer(org, owner) -> None:
    """A customer of the same organization that is not carla's, with everything."""
    from sofno.directory.models import Contact, ContactType, Customer
    from sofno.events.actions import post_event
    from sofno.monitoring import actions as monitoring
    from sofno.monitoring.models import Incident, MaintenanceWindow
    from sofno.tickets.actions import create_ticket

    who = Actor(organization=org, role=Role.OWNER, user=owner)
    other = Customer.objects.create(
        organization=org,
        name=f"{OTHER} Pizzeria",
        notes=f"{OTHER} private notes",
        email="zzother@example.com",
    )
    Contact.objects.create(
        organization=org,
        customer=other,
        name=f"{OTHER} Contact",
        phone="+390699900011",
        email="zzother.contact@example.com",
        notes=f"{OTHER} contact notes",
        contact_type=ContactType.objects.filter(organization=org).first(),
    )
    device, _ = monitoring.create_device(
        acting_user=who, customer=other, fields={"name": f"{OTHER} till", "os": "windows"}
    )
    Incident.objects.create(organization=org, device=device, title=f"{OTHER} till is offline")
    now = timezone.now()
    MaintenanceWindow.objects.create(
        organization=org,
        customer=other,
        starts_at=now,
        ends_at=now + dt.timedelta(hours=2),
        reason=f"{OTHER} maintenance reason",
    )
    create_ticket(acting_user=who, customer=other, title=f"{OTHER} ticket title")
    post_event(
        acting_user=who,
        type="invoice.overdue",
        subject="invoice:ZZ-1",
        data={"customer": {"id": str(other.public_id), "name": f"{OTHER} billing name"}},
    )


def _seed_staff_only(org, owner) -> None:
    """Staff-only objects, each carrying the ``ZZSTAFF`` marker."""
    from sofno.events.models import Consumer, CustomEventType, TimeTrigger
    from sofno.monitoring.models import CommandKind, CommandTemplate
    from sofno.notify.channel_models import InboxItem, SmtpProfile
    from sofno.notify.models import WebhookEndpoint, new_secret
    from sofno.notify.rule_models import NotificationRule
    from sofno.oncall.models import Call, OncallSettings, Person

    WebhookEndpoint.objects.create(
        organization=org,
        url=f"https://hooks.example.com/{STAFF}-hook",
        description=f"{STAFF} endpoint",
        headers={"Authorization": f"Bearer {STAFF}-secret"},
        secrets=[{"secret": new_secret(), "expires_at": None}],
    )
    Consumer.objects.create(organization=org, name=f"{STAFF} consumer")
    TimeTrigger.objects.create(
        organization=org,
        name=f"{STAFF} trigger",
        source_type="ticket.created",
        emit_type="ticket.updated",
    )
    CustomEventType.objects.create(organization=org, name="zzstaff.private", description=STAFF)
    CommandTemplate.objects.create(
        organization=org, name=f"{STAFF} command", kind=CommandKind.COLLECT_LOGS, argument="x"
    )
    NotificationRule.objects.create(organization=org, name=f"{STAFF} rule")
    SmtpProfile.objects.create(
        organization=org,
        name=f"{STAFF} smtp",
        host="smtp.zzstaff.example",
        from_address="zzstaff@example.com",
    )
    conf = OncallSettings.for_org(org)
    conf.lookup_url = "https://crm.example.com/zzstaff"
    conf.save()
    tech = make_user("zzstaff_tech", org, Role.AGENT)
    tech.first_name = f"{STAFF}Tech"
    tech.save()
    Person.objects.create(organization=org, user=tech, extension="299", desk=f"{STAFF} desk")
    Call.objects.create(
        organization=org, phone="+390611122233", extension="299", note=f"{STAFF} call note"
    )
    ApiKey.issue(org, f"{STAFF} key")
    InboxItem.objects.create(organization=org, user=owner, title=f"{STAFF} inbox of the owner")


def _owned_models():
    """Every project model with a ``public_id`` and an organization."""
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields()}
        if model.__module__.startswith("sofno.") and {"public_id", "organization"} <= names:
            yield model


def _build_world(cast) -> World:
    from sofno.core.models import Membership
    from sofno.directory.models import Customer, CustomerUser
    from sofno.events.models import Event
    from sofno.monitoring.models import Incident
    from sofno.notify.channel_models import InboxItem
    from sofno.oncall.models import OncallSettings, Person
    from sofno.tickets.actions import create_ticket
    from sofno.tickets.comments import add_comment

    org, owner = cast.org, cast.owner
    _seed_demo(org, owner)
    _seed_other_customer(org, owner)
    _seed_staff_only(org, owner)
    mine = Customer.objects.get(organization=org, name="Trattoria Da Mario")
    other = Customer.objects.get(organization=org, name=f"{OTHER} Pizzeria")
    carla = make_user("carla", org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=org, user=carla, customer=mine)
    InboxItem.objects.create(organization=org, user=carla, title="Your printer is back")
    who = Actor(organization=org, role=Role.CUSTOMER, user=carla)
    # Carla's own customer has one of everything too, so open endpoints have a row to show.
    owner_actor = Actor(organization=org, role=Role.OWNER, user=owner)
    ticket = create_ticket(
        acting_user=owner_actor, customer=mine, title="Till prints blank receipts"
    )
    # The conversation of carla's own ticket: the internal note must never reach her.
    add_comment(acting_user=owner_actor, ticket=ticket, body=f"{STAFF} note", public=False)
    add_comment(acting_user=owner_actor, ticket=ticket, body="On our way", public=True)
    Incident.objects.create(
        organization=org, device=mine.devices.first(), title="Kitchen till is offline"
    )

    world = World(carla=carla, mine=mine)
    for model in _owned_models():
        rows = model.objects.filter(organization=org)
        visible = visible_to(who, model.objects.all())
        hidden = rows.exclude(pk__in=visible.values("pk"))
        world.forbidden |= {str(v) for v in hidden.values_list("public_id", flat=True)}
        world.pool += [str(v) for v in hidden.values_list("public_id", flat=True)[:1]]
        world.pool += [str(v) for v in visible.values_list("public_id", flat=True)[:1]]
    # The pool's hidden event may be a staff one: add one about the other customer too.
    about_other = Event.objects.filter(customer_ref=other.public_id).order_by("pk").last()
    world.pool.append(str(about_other.public_id))
    for customer in Customer.objects.filter(organization=org).exclude(pk=mine.pk):
        world.forbidden.add(customer.name)
        for contact in customer.contacts.all():
            world.forbidden |= {contact.name, contact.phone, contact.email} - {""}
    world.tokens = [OncallSettings.for_org(org).team_feed_token]
    world.tokens += list(
        Person.objects.filter(organization=org).values_list("feed_token", flat=True)
    )
    world.forbidden |= set(world.tokens)
    for endpoint in apps.get_model("notify", "WebhookEndpoint").objects.filter(organization=org):
        world.forbidden |= {s["secret"] for s in endpoint.secrets}
    world.forbidden |= {OTHER, STAFF, "zzstaff", "zzother"}
    # By design a customer sees who is assigned to them (the customer page names them).
    world.forbidden -= {
        str(m.public_id)
        for m in Membership.objects.filter(organization=org, user__in=mine.assigned_agents.all())
    }
    return world


def _leaks(body: str, world: World) -> list[str]:
    found = []
    lowered = body.lower()
    for marker in world.forbidden:
        forms = {marker, html.escape(marker), json.dumps(marker)[1:-1]}
        if marker in (OTHER, STAFF, "zzstaff", "zzother"):
            if marker.lower() in lowered:
                found.append(marker)
        elif any(f in body for f in forms):
            found.append(marker)
    return found


# --- the API, from its OpenAPI document ----------------------------------------------


def _api_operations():
    """``{path: view_func}`` for every GET operation the API serves."""
    from sofno.api import api

    found = {}
    for prefix, router in api._routers:
        for route, path_view in router.path_operations.items():
            for operation in path_view.operations:
                if "GET" in operation.methods:
                    path = f"{API_PREFIX}/{prefix}{route}".replace("//", "/")
                    found[re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", path)] = operation.view_func
    return found


def _query_variants(operation: dict, world: World) -> list[str]:
    """Besides no query: the largest page, and each filter aimed at another customer."""
    from sofno.directory.models import Customer

    other = Customer.objects.get(name=f"{OTHER} Pizzeria")
    aimed = {
        "customer": str(other.public_id),
        "subject": f"customer:{other.public_id}",
        "q": OTHER,
        "search": OTHER,
    }
    # Required parameters get a plain value, so a staff-only operation is refused for
    # who is asking rather than for a missing field.
    required = "&".join(
        f"{p['name']}=" + ("1" if p.get("schema", {}).get("type") == "integer" else "+390600000001")
        for p in operation.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    )
    variants = [required]
    for param in operation.get("parameters", []):
        if param.get("in") != "query":
            continue
        name = param["name"]
        if name == "limit":
            variants.append(f"limit={param['schema'].get('maximum', 100)}")
        elif name in aimed:
            variants.append(f"{name}={aimed[name]}")
    return [v if not required or v == required else f"{required}&{v}" for v in variants]


def _fill(path: str, pool: list[str]) -> list[str]:
    names = re.findall(r"\{(\w+)\}", path)
    if not names:
        return [path]
    urls = []
    for value in pool:
        url = path
        for name in names:
            url = url.replace("{" + name + "}", value)
        urls.append(url)
    return urls


@pytest.fixture
def world(cast) -> World:
    return _build_world(cast)


def test_it_shows_a_customer_user_nothing_of_others_in_any_api_get(world, client):
    document = client.get(f"{API_PREFIX}/openapi.json").json()
    views = _api_operations()
    client.force_login(world.carla)
    walked, problems, operations_walked = 0, [], 0
    seen_own = False
    answered = {}  # open operation -> whether some request showed carla a row
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue
        assert path in views, f"no view for documented GET {path}"
        open_to_customers = allows_customers(views[path])
        # A staff-only operation refuses before it reads anything: one id answers for all.
        ids = [*world.pool, str(world.mine.public_id)] if open_to_customers else world.pool[:1]
        operations_walked += 1
        for url in _fill(path, ids):
            for query in _query_variants(operations["get"], world):
                response = client.get(f"{url}?{query}" if query else url)
                walked += 1
                body = response.content.decode()
                seen_own = seen_own or "Trattoria Da Mario" in body
                if open_to_customers:
                    answered[path] = answered.get(path, False) or response.status_code == 200
                where = f"GET {url}?{query} -> {response.status_code}"
                if leaks := _leaks(body, world):
                    problems.append(f"{where}: shows {sorted(leaks)[:5]}")
                if not open_to_customers and response.status_code != 403:
                    problems.append(f"{where}: staff-only operation did not answer 403")
                if open_to_customers and response.status_code not in (200, 404, 422):
                    problems.append(f"{where}: unexpected status")
    print(f"walked {walked} API GET requests over {operations_walked} GET operations")
    assert not problems, "\n".join(problems[:40])
    assert seen_own, "the walk never met carla's own customer: it proves nothing"
    # Every operation open to customer users did show carla something of her own.
    assert answered and all(answered.values()), answered
    assert operations_walked == len(views) and walked > 250


def test_the_markers_are_where_the_walk_looks(world, api_client, cast):
    """Control: the owner's API lists do show every marker and every kind of id."""
    document = api_client(cast.key).client.get(f"{API_PREFIX}/openapi.json").json()
    owner = Client()
    owner.force_login(cast.owner)
    bodies = []
    for path, operations in document["paths"].items():
        if "get" in operations and "{" not in path:
            bodies.append(owner.get(path).content.decode())
    text = "\n".join(bodies)
    for marker in (
        f"{OTHER} Pizzeria",
        f"{OTHER} Contact",
        "+390699900011",
        f"{OTHER} till",
        f"{OTHER} ticket title",
        f"{OTHER} maintenance reason",
        f"{OTHER} billing name",
        f"{STAFF}-hook",
        f"{STAFF}-secret",
        f"{STAFF} consumer",
        f"{STAFF} trigger",
        f"{STAFF} command",
        f"{STAFF} rule",
        f"{STAFF} smtp",
        f"{STAFF} call note",
        f"{STAFF} key",
        world.tokens[0],
    ):
        assert marker in text, f"the owner never sees {marker!r}: the walk would miss it"


# --- the pages, from the URL resolver --------------------------------------------------


def _page_routes(patterns=None, prefix: str = "") -> list[str]:
    """Every page route as text with ``<name>`` placeholders (API routes excluded:
    the API walk covers them operation by operation)."""
    routes = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        text = str(entry.pattern)
        if hasattr(entry.pattern, "regex") and text.startswith("^"):
            # A regular expression (Django admin): named groups become placeholders.
            text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text).strip("^$").replace("\\", "")
            if "(" in text:
                continue  # unnamed groups: not a URL we can fill
        else:
            text = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", text)
        if isinstance(entry, URLResolver):
            if entry.namespace == "api":
                continue
            routes += _page_routes(entry.url_patterns, prefix + text)
        elif isinstance(entry, URLPattern):
            routes.append(prefix + text)
    return routes


def _page_urls(world) -> list[tuple[str, list[str]]]:
    """Each page route with its URLs, placeholders filled with every id of the world
    (and tokens, slugs and values that match nothing)."""
    values = [*world.pool, str(world.mine.public_id)]
    fillers = {"token": [*world.tokens, "nope"], "slug": ["zzstaff-pos", "nope"]}
    pages = []
    for route in sorted(set(_page_routes())):
        urls = ["/" + route]
        for name in re.findall(r"<(\w+)>", route):
            options = fillers.get(name, values)
            urls = [u.replace(f"<{name}>", v, 1) for u in urls for v in options]
        pages.append((route, urls))
    return pages


def test_it_shows_a_customer_user_nothing_of_others_on_any_page(world, client):
    client.force_login(world.carla)
    walked, problems, pages = 0, [], 0
    for _route, urls in _page_urls(world):
        pages += 1
        staff_only_seen = False
        for url in urls:
            try:
                match = resolve(url.split("?")[0])
            except Resolver404:
                continue  # a value the converter refuses (a token where a uuid goes)
            if staff_only_seen:
                break  # refused before the view runs: one id answers for all
            staff_only_seen = not allows_customers(match.func)
            response = client.get(url)
            walked += 1
            body = response.content.decode(errors="replace") if not response.streaming else ""
            where = f"GET {url} -> {response.status_code}"
            if leaks := _leaks(body + response.get("Location", ""), world):
                problems.append(f"{where}: shows {sorted(leaks)[:5]}")
            if not allows_customers(match.func) and response.status_code != 403:
                problems.append(f"{where}: staff-only page did not answer 403")
    print(f"walked {walked} page requests over {pages} routes")
    assert not problems, "\n".join(problems[:40])
    assert pages > 100 and walked > 300


def test_every_page_answers_the_owner_without_a_server_error(world, client, cast):
    """The staff side of the same walk, on each engine: every page route, filled with
    the world's ids until one is of its kind, answers the owner without a 5xx.
    (Browser tests, which look at the same pages in Chromium, run on the first engine
    only.)"""
    client.force_login(cast.owner)
    walked, failed, answered = 0, [], set()
    for _route, urls in _page_urls(world):
        for url in urls:
            try:
                resolve(url.split("?")[0])
            except Resolver404:
                continue
            response = client.get(url)
            walked += 1
            answered.add(response.status_code)
            if response.status_code >= 500:
                failed.append(f"GET {url} -> {response.status_code}")
            if response.status_code != 404:
                break  # the route met an id of its kind: one rendering answers for it
    print(f"walked {walked} page requests as the owner, answers {sorted(answered)}")
    assert not failed, "\n".join(failed[:40])
    assert walked > 200 and 200 in answered
