import datetime as dt

import pytest
import time_machine

from sofno.events.models import Event
from sofno.oncall import actions, queue
from sofno.oncall.conf import AmiSettings
from sofno.oncall.models import OncallSettings, QueueProgram, QueueProgramStatus
from sofno.oncall.planning import grid_of
from sofno.oncall.telephony import AsteriskQueue, TelephonyError, set_members
from sofno.oncall.tests.ami_server import AmiServer
from sofno.oncall.tests.helpers import BEFORE_WEEK, WEEK, owner_actor, team

MONDAY_0930_ROME = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)


def settings_for(ami: AmiServer, secret: str = "s3cret") -> AmiSettings:
    return AmiSettings(
        host="127.0.0.1",
        port=ami.port,
        username="sofno",
        secret=secret,
        queue="support",
        interface="PJSIP/{extension}",
        timeout=5.0,
    )


def test_it_logs_in_and_adds_removes_and_pauses_members():
    with AmiServer(queues={"support": {"PJSIP/299": {"paused": False, "name": "old"}}}) as ami:
        with AsteriskQueue(settings_for(ami)) as phone:
            changes = set_members(phone, {"201": "Ann", "202": "Bob"})
            phone.pause("201", True, reason="lunch")
            members = {m.extension: m.paused for m in phone.members()}
        assert changes == {"added": ["201", "202"], "removed": ["299"]}
        assert members == {"201": True, "202": False}
        assert ami.state.told("Login")[0]["Username"] == "sofno"
        added = ami.state.told("QueueAdd")
        assert [a["Interface"] for a in added] == ["PJSIP/201", "PJSIP/202"]
        assert added[0]["MemberName"] == "Ann" and added[0]["Queue"] == "support"
        assert ami.state.told("QueueRemove")[0]["Interface"] == "PJSIP/299"
        pause = ami.state.told("QueuePause")[0]
        assert (pause["Paused"], pause["Reason"]) == ("true", "lunch")
        assert all(a.get("ActionID", "").startswith("sofno-") for a in ami.state.actions)
        assert ami.state.told("Logoff")


def test_it_reports_a_refused_login_and_a_refused_action():
    with AmiServer() as ami:
        with pytest.raises(TelephonyError, match="login refused: Authentication failed"):
            AsteriskQueue(settings_for(ami, secret="wrong")).connect()
        with AsteriskQueue(settings_for(ami)) as phone, pytest.raises(TelephonyError, match="Not"):
            phone.remove("201")


def test_it_reports_an_unreachable_server():
    with AmiServer() as ami:
        port = ami.port
    gone = AmiSettings("127.0.0.1", port, "sofno", "s3cret", "support", "PJSIP/{extension}", 1)
    with pytest.raises(TelephonyError, match="cannot reach"):
        AsteriskQueue(gone).connect()


@pytest.mark.django_db
def test_it_programs_the_queue_once_per_turn(cast):
    with time_machine.travel(BEFORE_WEEK, tick=False):
        team(cast, 3, lines=2)
        draft = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
        actions.publish(acting_user=owner_actor(cast), timetable=draft)
    on_turn = {
        p.extension
        for p in draft.assignments.filter(day=0, turn=0).select_related("person")
        for p in [p.person]
    }
    assert len(on_turn) == 2 and grid_of(draft)[0][0]
    with AmiServer(queues={"support": {"PJSIP/999": {"paused": False, "name": "x"}}}) as ami:
        phone = AsteriskQueue(settings_for(ami))
        first = queue.program(cast.org, MONDAY_0930_ROME, phone)
        again = queue.program(cast.org, MONDAY_0930_ROME + dt.timedelta(minutes=5), phone)
        phone.close()
        assert first.status == QueueProgramStatus.DONE
        assert again is None  # the same turn is programmed once
        assert {i.removeprefix("PJSIP/") for i in ami.members()} == on_turn
    assert Event.objects.filter(type="oncall.queue.programmed").count() == 1


@pytest.mark.django_db
def test_it_records_a_failed_turn_and_retries_it_later(cast):
    with time_machine.travel(BEFORE_WEEK, tick=False):
        team(cast, 2, lines=1)
        draft = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
        actions.publish(acting_user=owner_actor(cast), timetable=draft)
    with AmiServer(queues={}) as ami:  # the queue does not exist on this server
        phone = AsteriskQueue(settings_for(ami))
        with time_machine.travel(MONDAY_0930_ROME, tick=False):
            row = queue.program(cast.org, MONDAY_0930_ROME, phone)
            assert row.status == QueueProgramStatus.FAILED and "Unable to find queue" in row.detail
            assert queue.program(cast.org, MONDAY_0930_ROME, phone) is None  # not yet
        ami.state.queues["support"] = {}
        with time_machine.travel(MONDAY_0930_ROME + dt.timedelta(minutes=2), tick=False):
            row = queue.program(cast.org, MONDAY_0930_ROME, phone)
        phone.close()
        assert row.status == QueueProgramStatus.DONE
        assert len(ami.members()) == 1
    assert QueueProgram.objects.count() == 1


@pytest.mark.django_db
def test_the_worker_tick_programs_configured_organizations(cast, monkeypatch):
    with time_machine.travel(BEFORE_WEEK, tick=False):
        team(cast, 2, lines=1)
        draft = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
        actions.publish(acting_user=owner_actor(cast), timetable=draft)
    OncallSettings.objects.filter(organization=cast.org).update(program_queue=True)
    with AmiServer() as ami:
        for name, value in {
            "SOFNO_AMI_HOST": "127.0.0.1",
            "SOFNO_AMI_PORT": str(ami.port),
            "SOFNO_AMI_USERNAME": "sofno",
            "SOFNO_AMI_SECRET": "s3cret",
            "SOFNO_AMI_QUEUE": "support",
        }.items():
            monkeypatch.setenv(name, value)
        with time_machine.travel(MONDAY_0930_ROME, tick=False):
            assert queue.tick() == 1
            assert queue.tick() == 0
        assert len(ami.members()) == 1
