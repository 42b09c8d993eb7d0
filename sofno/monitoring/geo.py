"""Where a check-in came from: country by default, city and coordinates with a
MaxMind-format database (``SOFNO_GEOIP_DB``)."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

import iptocc

from sofno.monitoring import conf


@dataclass(frozen=True)
class Place:
    country: str = ""
    city: str = ""
    latitude: float | None = None
    longitude: float | None = None
    local_network: bool = False


@functools.cache
def _reader(path: str):
    import maxminddb

    return maxminddb.open_database(path)


@functools.lru_cache(maxsize=65536)
def locate(ip: str | None) -> Place:
    """The place of ``ip``; private, loopback and link-local addresses are "local"."""
    if not ip:
        return Place()
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return Place()
    if not address.is_global:
        return Place(local_network=True)
    path = conf.geoip_db()
    if path:
        record = _reader(path).get(ip) or {}
        country = (record.get("country") or {}).get("iso_code") or ""
        city = ((record.get("city") or {}).get("names") or {}).get("en") or ""
        location = record.get("location") or {}
        if country or city:
            return Place(
                country=country,
                city=city,
                latitude=location.get("latitude"),
                longitude=location.get("longitude"),
            )
    return Place(country=iptocc.country_code(ip) or "")


# --- the map without a city database or the internet ---------------------------------


@functools.cache
def _countries() -> dict[str, tuple[tuple[float, float] | None, list[dict]]]:
    """Each country's centre and outline by ISO code, from the ``countryinfo``
    package (Natural Earth outlines, 270 KB for the world)."""
    from countryinfo import all_countries

    found: dict[str, tuple[tuple[float, float] | None, list[dict]]] = {}
    for country in all_countries():
        try:
            code = country.iso(2)
            centre = country.latlng()
            outline = (country.geo_json() or {}).get("features") or []
        except Exception:  # noqa: S112 - a territory without full data is left out
            continue
        if code:
            found[code] = (tuple(centre) if len(centre or ()) == 2 else None, outline)
    return found


def country_centre(code: str) -> tuple[float, float] | None:
    """The middle of a country (ISO 3166 alpha-2), for a device whose city is unknown."""
    entry = _countries().get((code or "").upper())
    return entry[0] if entry else None


@functools.cache
def world_outline() -> dict:
    """Every country's outline as one GeoJSON feature collection: the map's basemap
    when tiles cannot load (no internet, or no tile server allowed)."""
    features = [f for _centre, outline in _countries().values() for f in outline]
    return {"type": "FeatureCollection", "features": features}
