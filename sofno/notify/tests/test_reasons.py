"""The engine's reasons are codes and parameters, put into words in the reader's
language when read: no English for an es/it/ca reader, dates in their format."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from sofno.notify import reasons
from sofno.notify.reasons import describe, moment, reason, text

# 23:30 UTC on 10 June 2026: 11 June 07:00 in Rome is the morning after.
MORNING = dt.datetime(2026, 6, 11, 5, 0, tzinfo=dt.UTC)
# Sample parameters for every code's words.
PARAMS = {
    "customer": "Café Central",
    "name": "Till 1",
    "device": "Till 1",
    "person": "Adam",
    "why": "cabling",
    "until": moment(MORNING, "Europe/Rome"),
    "since": moment(MORNING),
    "silent": 9,
    "total": 10,
    "customers": 3,
    "hold": reason(reasons.ALERTS_OFF, customer="Café Central"),
    "type": "device.offline",
    "status": "closed",
    "token": "device_name",
    "op": reason(reasons.OP_EQ),
    "value": '"Till 9"',
    "actual": '"Till 1"',
    "rules": "Till 1 rule",
    "member": "vera",
    "kind": "Billing",
    "template": "Bomb",
    "error": "too long",
    "count": 2,
    "people": 1,
    "step": 2,
    "policy": "Nights",
}


def test_it_says_a_deferral_in_spanish_with_a_spanish_date_in_the_persons_zone():
    params = {"person": "Adam", "until": moment(MORNING, "Europe/Rome")}
    with translation.override("es"):
        words = describe(reasons.DEFERRED_QUIET, params)
    assert words == "aplazado hasta el 11/06/2026 07:00 CEST: horas de silencio de Adam"
    with translation.override("en"):
        assert describe(reasons.DEFERRED_QUIET, params) == (
            "deferred until 11/06/2026 07:00 CEST: Adam's quiet hours"
        )


@pytest.mark.parametrize("language", ["es", "it", "ca"])
def test_it_has_words_of_its_own_for_every_code_in_every_language(language):
    english = {}
    with translation.override("en"):
        for code in reasons.TEXTS:
            english[code] = describe(code, PARAMS)
    with translation.override(language):
        for code in reasons.TEXTS:
            words = describe(code, PARAMS)
            assert words and words != english[code], (code, words)
            assert code not in words and "%(" not in words and "{'" not in words


def test_it_describes_a_reason_inside_another_one_in_the_same_language():
    held = reason(reasons.HELD, hold=reason(reasons.CUSTOMER_INACTIVE, customer="Café Central"))
    with translation.override("es"):
        assert text(held) == "retenida: Café Central está inactivo"
    with translation.override("it"):
        assert text(held) == "trattenuto: Café Central è inattivo"


def test_it_words_a_missing_optional_part_without_a_gap():
    with translation.override("es"):
        assert describe(reasons.OUTSIDE_HOURS, {"customer": "Café Central", "until": None}) == (
            "fuera del horario comercial de Café Central"
        )
        assert describe(reasons.STOPPED_ACKNOWLEDGED, {}) == "reconocida"
        assert describe(reasons.DEFERRED_HOURS, {"until": moment(MORNING, "UTC")}) == (
            "aplazado hasta el 11/06/2026 05:00 UTC: fuera del horario comercial"
        )
        # Nobody named: "the recipient", in words too.
        assert describe(reasons.QUIET_NEXT, {"person": ""}) == (
            "la persona destinataria está en horas de silencio: siguiente persona"
        )


def test_it_shows_sentences_written_before_codes_as_they_are_and_never_a_code():
    with translation.override("es"):
        assert text("deferred: adam's quiet hours until Wed 08:00 CEST") == (
            "deferred: adam's quiet hours until Wed 08:00 CEST"
        )
        assert describe("no_such_code", {"x": 1}) == ""
        assert text({"code": "no_such_code"}) == ""
        # A parameter the row lacks reads empty rather than failing the page.
        assert (
            describe(reasons.NO_EMAIL, {}) == "la persona destinataria no tiene correo electrónico"
        )
    assert reasons.code_of({"code": reasons.NO_EMAIL}) == reasons.NO_EMAIL
    assert reasons.code_of("adam has no email") == ""
