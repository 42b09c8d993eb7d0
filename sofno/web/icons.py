"""SOFNO's app icon, drawn in code: a ring and a dot (a watched device) on a dark tile.

Phones want PNG icons in several sizes for the home screen (iPhones accept no SVG
there); drawing them here keeps binary files out of the repository and lets every
size be exact. Each size is drawn once per process.
"""

from __future__ import annotations

import functools
import math
import struct
import zlib

BACKGROUND = (33, 37, 41)  # Bootstrap's dark, the navigation bar's colour
ACCENT = (32, 201, 151)  # Bootstrap's teal: "online"
SIZES = (180, 192, 512)


def _png(width: int, rows: list[bytes]) -> bytes:
    """A truecolour PNG from raw RGB rows (no filtering: the rows compress well)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _coverage(distance: float) -> float:
    """How much of a pixel a shape edge at ``distance`` (pixels, inside < 0) covers."""
    return min(1.0, max(0.0, 0.5 - distance))


@functools.lru_cache(maxsize=len(SIZES))
def icon_png(size: int) -> bytes:
    """The icon as a ``size`` x ``size`` PNG. Full bleed, with the mark inside the
    central 80 % so that it also serves as a "maskable" icon (Android crops it)."""
    centre = size / 2
    ring_radius, ring_width, dot_radius = size * 0.26, size * 0.07, size * 0.09
    outer = ring_radius + ring_width / 2 + 1  # beyond it, every pixel is background
    rows = []
    for y in range(size):
        dy = y + 0.5 - centre
        reach = math.sqrt(max(0.0, outer * outer - dy * dy))
        start, stop = max(0, int(centre - reach)), min(size, int(centre + reach) + 1)
        row = bytearray(bytes(BACKGROUND) * size)
        for x in range(start, stop):
            r = math.hypot(x + 0.5 - centre, dy)
            ring = _coverage(abs(r - ring_radius) - ring_width / 2)
            share = max(ring, _coverage(r - dot_radius))
            if share:
                row[3 * x : 3 * x + 3] = bytes(
                    round(b + (a - b) * share) for a, b in zip(ACCENT, BACKGROUND, strict=True)
                )
        rows.append(bytes(row))
    return _png(size, rows)
