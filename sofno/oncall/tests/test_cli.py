import datetime as dt
import io

import pytest
import time_machine
import yaml
from django.core.management import CommandError, call_command

from sofno.oncall.models import Person, QueueProgram, Timetable, TimetableStatus
from sofno.oncall.tests.ami_server import AmiServer
from sofno.oncall.tests.helpers import BEFORE_WEEK, WEEK, team

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("oncall", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def ami(monkeypatch):
    with AmiServer() as server:
        for name, value in {
            "SOFNO_AMI_HOST": "127.0.0.1",
            "SOFNO_AMI_PORT": str(server.port),
            "SOFNO_AMI_USERNAME": "sofno",
            "SOFNO_AMI_SECRET": "s3cret",
            "SOFNO_AMI_QUEUE": "support",
        }.items():
            monkeypatch.setenv(name, value)
        yield server


def test_it_schedules_a_week_with_progress_and_publishes(cast):
    team(cast, 3)
    with time_machine.travel(BEFORE_WEEK, tick=False):
        out = run("--org", "acme", "schedule", "--week", "2026-11-25", "--time-limit", "5")
        assert "planning the week of 2026-11-23" in out
        assert "cost" in out and "bound" in out  # one progress line per better timetable
        assert "optimal" in out and "staff0" in out
        assert Timetable.objects.get().status == TimetableStatus.DRAFT
        run("--org", "acme", "schedule", "--week", str(WEEK), "--time-limit", "5", "--publish")
    assert Timetable.objects.filter(status=TimetableStatus.PUBLISHED).count() == 1


def test_it_needs_a_valid_week_and_organization(cast):
    with pytest.raises(CommandError, match="not a date"):
        run("--org", "acme", "schedule", "--week", "next monday")
    with pytest.raises(CommandError, match="--org"):
        run("schedule", "--week", str(WEEK))  # acme and globex both exist


def test_it_shows_sets_and_pauses_the_queue(cast, ami):
    team(cast, 2, lines=1)
    with time_machine.travel(BEFORE_WEEK, tick=False):
        run("--org", "acme", "schedule", "--week", str(WEEK), "--time-limit", "5", "--publish")
    assert "the queue is empty" in run("--org", "acme", "queue", "show")
    out = run("--org", "acme", "queue", "set", "--date", str(WEEK), "--time", "09:30")
    timetable = Timetable.objects.get()
    on_turn = timetable.assignments.get(day=0, turn=0).person
    assert out.startswith("done:") and on_turn.extension in out
    assert list(ami.members()) == [f"PJSIP/{on_turn.extension}"]
    run("--org", "acme", "queue", "pause", on_turn.extension, "--reason", "coffee")
    run("--org", "acme", "queue", "add", "299")
    shown = run("--org", "acme", "queue", "show")
    assert f"{on_turn.extension:<8} paused  {on_turn.name}" in shown and "299" in shown
    assert ami.state.told("QueuePause")[0]["Reason"] == "coffee"
    assert QueueProgram.objects.get().slot.startswith("manual:")


def test_it_says_when_no_phone_system_is_configured(cast, monkeypatch):
    monkeypatch.delenv("SOFNO_AMI_HOST", raising=False)
    with pytest.raises(CommandError, match="SOFNO_AMI_HOST"):
        run("--org", "acme", "queue", "show")


def test_it_shows_and_loads_extensions_and_moves_yaml(cast, tmp_path):
    (ann,) = team(cast, 1)
    assert "201" in run("--org", "acme", "extensions", "show")
    mapping = tmp_path / "extensions.yaml"
    mapping.write_text("staff0: 301\nadam: '302'\n")
    assert "loaded 2 extensions" in run("--org", "acme", "extensions", "load", str(mapping))
    ann.refresh_from_db()
    assert ann.extension == "301" and Person.objects.get(user=cast.agent).extension == "302"
    bad = tmp_path / "bad.yaml"
    bad.write_text("nobody: 303\n")
    with pytest.raises(CommandError, match=r"people\[0\].username"):
        run("--org", "acme", "extensions", "load", str(bad))
    bad.write_text("staff0: [unclosed\n")
    with pytest.raises(CommandError, match="not valid YAML"):
        run("extensions", "load", str(bad), "--org", "acme")  # --org after the subcommand
    exported = yaml.safe_load(run("--org", "acme", "export"))
    assert {p["username"] for p in exported["people"]} == {"staff0", "adam"}
    exported["timetables"] = [
        {
            "week_start": WEEK,
            "status": "published",
            "turns": ["09:00-11:00", "11:00-13:00"],
            "days": ["mon", "tue"],
            "lines": [[1, 1], [1, 1]],
            "slots": {"mon": [["staff0"], ["adam"]], "tue": [[], ["staff0"]]},
        }
    ]
    doc = tmp_path / "team.yaml"
    doc.write_text(yaml.safe_dump(exported))
    out = run("--org", "acme", "import", str(doc))
    assert "2 people" in out and "1 timetables" in out
    from sofno.oncall import on_call_at

    monday_11_rome = dt.datetime(2026, 11, 23, 10, 30, tzinfo=dt.UTC)
    assert [u.username for u in on_call_at(cast.org, monday_11_rome)] == ["adam"]
