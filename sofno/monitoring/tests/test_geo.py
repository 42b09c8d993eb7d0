from sofno.monitoring.geo import locate


def test_it_finds_the_country_of_a_public_address():
    assert locate("8.8.8.8").country == "US"
    assert locate("151.1.1.1").country == "IT"
    assert not locate("151.1.1.1").local_network


def test_it_calls_private_and_loopback_addresses_local():
    for ip in ("127.0.0.1", "10.0.0.8", "192.168.1.20", "::1", "fe80::1", "172.16.3.4"):
        place = locate(ip)
        assert place.local_network and place.country == ""


def test_it_shrugs_at_garbage():
    assert locate("not-an-ip").country == ""
    assert locate(None).local_network is False


class U16(int):
    pass


class U32(int):
    pass


def _encode(value) -> bytes:
    """Just enough of the MaxMind DB data format to write a test database."""
    import struct

    if isinstance(value, str):
        raw = value.encode()
        return bytes([(2 << 5) | len(raw)]) + raw
    if isinstance(value, float):
        return bytes([(3 << 5) | 8]) + struct.pack(">d", value)
    if isinstance(value, U16 | U32):
        raw = value.to_bytes(4, "big").lstrip(b"\0")
        return bytes([((5 if isinstance(value, U16) else 6) << 5) | len(raw)]) + raw
    if isinstance(value, int):
        raw = value.to_bytes(8, "big").lstrip(b"\0")
        return bytes([len(raw), 9 - 7]) + raw  # uint64 (extended type)
    if isinstance(value, list):
        return bytes([len(value), 11 - 7]) + b"".join(_encode(v) for v in value)
    if isinstance(value, dict):
        body = b"".join(_encode(k) + _encode(v) for k, v in value.items())
        return bytes([(7 << 5) | len(value)]) + body
    raise TypeError(value)


def write_mmdb(path, record: dict) -> None:
    """An IPv4 database where every address maps to ``record``."""
    node_count = 1
    pointer = (node_count + 16).to_bytes(3, "big")  # data section offset 0
    metadata = {
        "binary_format_major_version": U16(2),
        "binary_format_minor_version": U16(0),
        "build_epoch": 1_700_000_000,
        "database_type": "GeoLite2-City",
        "description": {"en": "test"},
        "ip_version": U16(4),
        "languages": ["en"],
        "node_count": U32(node_count),
        "record_size": U16(24),
    }
    path.write_bytes(
        pointer
        + pointer
        + b"\0" * 16
        + _encode(record)
        + b"\xab\xcd\xefMaxMind.com"
        + _encode(metadata)
    )


def test_it_reads_city_and_coordinates_from_a_maxmind_database(tmp_path, monkeypatch):
    database = tmp_path / "city.mmdb"
    write_mmdb(
        database,
        {
            "country": {"iso_code": "FR"},
            "city": {"names": {"en": "Lyon"}},
            "location": {"latitude": 45.75, "longitude": 4.85},
        },
    )
    monkeypatch.setenv("SOFNO_GEOIP_DB", str(database))
    locate.cache_clear()
    try:
        place = locate("8.8.4.4")
        assert (place.country, place.city) == ("FR", "Lyon")
        assert (place.latitude, place.longitude) == (45.75, 4.85)
        assert locate("192.168.0.1").local_network
    finally:
        locate.cache_clear()
