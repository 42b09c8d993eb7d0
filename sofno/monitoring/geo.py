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
