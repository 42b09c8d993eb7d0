import pytest

from sofno.monitoring import checkin


@pytest.mark.browser
def test_it_updates_the_device_list_live(cast, live_server, page, login, make_device):
    device, key = make_device("Till live")
    login(page, cast.viewer)
    page.goto("/devices/")
    badge = page.locator(f'tr[data-device="{device.public_id}"] .device-status')
    assert badge.inner_text() == "New (never checked in)"
    assert checkin.handle(key, "10.0.0.9", None).status == 200
    # No reload: the page polls the status endpoint every few seconds.
    badge.filter(has_text="Online").wait_for(timeout=12_000)
    assert "text-bg-success" in badge.get_attribute("class")


@pytest.mark.browser
def test_it_fits_a_phone_and_shows_the_map(
    cast, live_server, phone_page, login, make_device, monkeypatch
):
    from sofno.conftest import horizontal_overflow
    from sofno.monitoring.models import Device

    # Tiles from the test server itself (they 404): the test never leaves loopback.
    monkeypatch.setenv("SOFNO_MAP_TILE_URL", live_server.url + "/tiles/{z}/{x}/{y}.png")
    device, _ = make_device("Till map")
    Device.objects.filter(pk=device.pk).update(latitude=45.46, longitude=9.19, status="offline")
    login(phone_page, cast.viewer)
    phone_page.goto("/devices/")
    assert horizontal_overflow(phone_page) <= 0
    phone_page.goto("/devices/map/")
    marker = phone_page.locator(".leaflet-interactive")
    marker.first.wait_for()
    assert marker.count() == 1
    assert marker.first.get_attribute("stroke") == "#dc3545"  # offline is red
    # No tiles (they 404 here, as without the internet): the country outlines stay.
    phone_page.locator("#map-note").wait_for()
    assert phone_page.locator(".leaflet-overlay-pane path").count() > 150
    marker.first.tap()
    google = phone_page.get_by_role("link", name="Open in Google Maps")
    assert google.get_attribute("href").endswith("query=45.46000%2C9.19000")


@pytest.mark.browser
def test_it_lets_the_person_on_call_acknowledge_and_resolve_from_a_phone(
    cast, live_server, phone_page, login, make_device
):
    from sofno.conftest import horizontal_overflow
    from sofno.monitoring.models import Device, Incident

    device, _ = make_device("Till at the bar")
    Device.objects.filter(pk=device.pk).update(status="offline")
    incident = Incident.objects.create(
        organization=cast.org,
        customer=device.customer,
        device=device,
        title=f"Till at the bar ({device.customer.name}) is offline",
    )
    login(phone_page, cast.agent)
    phone_page.goto("/incidents/")
    assert horizontal_overflow(phone_page) <= 0
    row = phone_page.locator(f'tr[data-incident="{incident.public_id}"]')
    acknowledge = row.get_by_role("button", name="Acknowledge")
    resolve = row.get_by_role("button", name="Resolve")
    for button in (acknowledge, resolve):  # both in reach, not cut off at the edge
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["height"] >= 30  # a thumb's target
    with phone_page.expect_navigation():
        acknowledge.tap()
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    phone_page.goto(f"/incidents/{incident.public_id}/")
    assert horizontal_overflow(phone_page) <= 0
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Resolve").tap()
    incident.refresh_from_db()
    assert incident.status == "resolved"
