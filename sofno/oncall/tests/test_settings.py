import pytest
from django.test import Client

from sofno.core.testing import field_errors
from sofno.oncall.models import OncallSettings

pytestmark = pytest.mark.django_db


def test_it_reads_and_changes_settings_through_the_api(cast, api_client):
    api = api_client(cast.key)
    body = api.get("/oncall/settings").json()
    assert body["turns"] == ["09:00-10:15", "10:15-11:30", "11:30-12:45", "12:45-14:00"]
    assert body["team_feed"].endswith(".ics")
    answer = api.patch(
        "/oncall/settings",
        {"turns": ["08:00-12:00", "12:00-16:00"], "days": [4, 0], "lunch_pairs": [[0, 1]]},
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["days"] == [0, 4]
    assert OncallSettings.objects.get(organization=cast.org).turns[0] == "08:00-12:00"


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"turns": ["10:00-09:00"]}, "turns", "turns"),
        ({"turns": ["09:00-11:00", "10:00-12:00"]}, "turns", "turns"),
        ({"lunch_pairs": [[0, 9]]}, "lunch_pairs", "lunch_pairs"),
        ({"days": [7]}, "days", "days"),
        ({"weights": {"noise": 3}}, "weights", "weights"),
        ({"lookup_url": "http://erp.example.com/lookup"}, "lookup_url", "https_only"),
    ],
)
def test_it_names_the_field_and_rule_of_bad_settings(cast, api_client, change, field, rule):
    answer = api_client(cast.key).patch("/oncall/settings", change)
    assert answer.status_code == 422
    assert field_errors(answer) == {field: rule}
    assert OncallSettings.for_org(cast.org).days == [0, 1, 2, 3, 4]  # nothing half-saved


def test_it_keeps_settings_to_administrators_and_their_organization(cast, api_client):
    assert api_client(cast.readonly_key).patch("/oncall/settings", {"lines": 3}).status_code == 403
    api_client(cast.other_key).patch("/oncall/settings", {"lines": 3})
    assert api_client(cast.key).get("/oncall/settings").json()["lines"] == 7
    assert api_client(cast.key).delete("/oncall/settings").status_code == 405


def test_it_edits_settings_on_the_page(cast):
    owner, agent = Client(), Client()
    owner.force_login(cast.owner)
    agent.force_login(cast.agent)
    form = {
        "turns": "09:00-11:00, 11:00-13:00",
        "days": ["0", "1", "2"],
        "lines": "3",
        "lunch_pairs": "0-1",
        "time_budget": "10",
        "lookup_url": "",
        **{f"weight_{n}": "5" for n in ("unfilled", "load", "split", "soft_busy", "desk")},
    }
    assert agent.post("/oncall/settings/", form).status_code == 403
    owner.post("/oncall/settings/", form)
    conf = OncallSettings.objects.get(organization=cast.org)
    assert conf.turns == ["09:00-11:00", "11:00-13:00"] and conf.lunch_pairs == [[0, 1]]
    assert conf.weights["desk"] == 5 and conf.days == [0, 1, 2]
    answer = owner.post("/oncall/settings/", {**form, "lunch_pairs": "noon"}, follow=True)
    # The error names the field by its label, as the form shows it.
    assert any(str(m).startswith("Lunch rule") for m in answer.context["messages"])
    assert agent.get("/oncall/settings/").status_code == 200
