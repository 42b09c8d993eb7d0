"""Each person sees SOFNO in their own language; visitors in their browser's."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from sofno.directory.models import StaffProfile

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def _client_speaking(user, language: str) -> Client:
    StaffProfile.objects.filter(user=user).update(language=language)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("es", ["Panel", "Clientes", "Asignados a ti", "Cerrar sesión", "Perfil"]),
        ("it", ["Cruscotto", "Clienti", "Assegnati a te", "Esci", "Profilo"]),
        ("ca", ["Tauler", "Clients", "Assignats a tu", "Tanca la sessió", "Perfil"]),
        ("en", ["Dashboard", "Customers", "Assigned to you", "Log out", "Profile"]),
    ],
)
def test_it_shows_the_dashboard_in_the_users_language(cast, language, words):
    page = _client_speaking(cast.agent, language).get(reverse("web:dashboard"))
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    for word in words:
        assert word in page.text, word


def test_it_answers_each_user_in_their_own_language_whatever_the_browser_says(cast):
    spanish = _client_speaking(cast.agent, "es")
    italian = _client_speaking(cast.viewer, "it")
    headers = {"Accept-Language": "en"}
    assert "Nuevo cliente" in spanish.get(reverse("web:customer-list"), headers=headers).text
    assert (
        "Ancora nessun cliente" in italian.get(reverse("web:customer-list"), headers=headers).text
    )


def test_it_translates_form_errors(cast):
    client = _client_speaking(cast.agent, "it")
    answer = client.post(
        reverse("web:profile"), {"timezone": "UTC", "language": "it", "quiet_hours_0": "18-9"}
    )
    assert "finisce prima di iniziare" in answer.text
    assert "Lunedì" in answer.text


@pytest.mark.parametrize(
    ("accept", "title"),
    [("es-ES,es;q=0.9", "Usuario"), ("it", "Nome utente"), ("fr, en;q=0.5", "Username")],
)
def test_it_shows_visitors_the_login_page_in_their_browsers_language(db, accept, title):
    page = Client().get(reverse("web:login"), headers={"Accept-Language": accept})
    assert page.status_code == 200
    assert f">{title}</label>" in page.text


def test_it_switches_language_after_the_profile_changes_it(cast):
    client = _client_speaking(cast.agent, "en")
    answer = client.post(reverse("web:profile"), {"timezone": "UTC", "language": "es"}, follow=True)
    assert "Perfil guardado." in answer.text
    assert "Panel" in client.get(reverse("web:dashboard")).text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", {"Customers": "Clientes", "Quiet hours": "Horas de silencio"}),
        ("it", {"Customers": "Clienti", "Quiet hours": "Ore di silenzio"}),
        ("ca", {"Customers": "Clients", "Quiet hours": "Hores de silenci"}),
    ],
)
def test_it_ships_compiled_catalogs(language, expected):
    # Read the committed .mo directly: a catalog that was edited but not compiled
    # (or not committed) fails here, not only in a running server.
    folder = LOCALE / language / "LC_MESSAGES"
    assert (folder / "django.po").exists()
    with (folder / "django.mo").open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)
    for english, translated in expected.items():
        assert catalog.gettext(english) == translated
    assert catalog.ngettext("%(n)s inactive", "%(n)s inactive", 2) != "%(n)s inactive"


def _untranslated(po: Path) -> list[str]:
    """The msgids of ``po`` whose translation is empty or marked fuzzy."""
    missing, entry = [], {"flags": "", "msgid": None, "msgstr": []}

    def close() -> None:
        if entry["msgid"] and (not any(entry["msgstr"]) or "fuzzy" in entry["flags"]):
            missing.append(entry["msgid"])

    field = None
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            close()
            entry, field = {"flags": "", "msgid": None, "msgstr": []}, None
        elif line.startswith("#,"):
            entry["flags"] += line
        elif line.startswith("msgid "):
            entry["msgid"], field = line[6:].strip('"'), "msgid"
        elif line.startswith("msgid_plural"):
            field = "plural"
        elif line.startswith("msgstr"):
            entry["msgstr"].append(line.split(" ", 1)[1].strip('"'))
            field = "msgstr"
        elif line.startswith('"'):
            if field == "msgid":
                entry["msgid"] += line.strip('"')
            elif field == "msgstr":
                entry["msgstr"][-1] += line.strip('"')
    return missing


@pytest.mark.parametrize("language", ["es", "it", "ca"])
def test_it_leaves_no_message_untranslated(language):
    missing = _untranslated(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert missing == [], f"{language}: {len(missing)} untranslated, e.g. {missing[:5]}"
