"""The installable web app: manifest and icons, public and well formed."""

import struct
import zlib

import pytest

from sofno.web import icons


def test_it_serves_a_manifest_that_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes  # what Chrome asks of an installable app
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_it_translates_the_manifest(client):
    client.cookies["django_language"] = "es"
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["lang"] == "es"
    assert manifest["description"] == "Incidencias, equipos y guardias de sus clientes"


@pytest.mark.parametrize("size", icons.SIZES)
def test_it_draws_each_icon_as_a_valid_png_of_its_size(client, size):
    body = client.get(f"/icons/{size}.png").content
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", body[16:24])
    assert (width, height) == (size, size)
    length = struct.unpack(">I", body[33:37])[0]
    raw = zlib.decompress(body[41 : 41 + length])
    assert len(raw) == size * (1 + 3 * size)
    row = raw[(size // 2) * (1 + 3 * size) + 1 :][: 3 * size]
    centre = tuple(row[3 * (size // 2) : 3 * (size // 2) + 3])
    corner = tuple(raw[1:4])
    assert centre == icons.ACCENT and corner == icons.BACKGROUND


def test_it_offers_no_other_icon_size(client):
    assert client.get("/icons/64.png").status_code == 404


def test_every_page_names_the_manifest_and_the_phone_icon(client, cast):
    client.force_login(cast.owner)
    page = client.get("/").content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert 'rel="apple-touch-icon" href="/icons/180.png"' in page
