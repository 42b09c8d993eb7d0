import base64
import json
import sys

import pytest

from sofno.agent import ed25519, runner
from sofno.core.access import Actor
from sofno.core.models import AuditEntry
from sofno.monitoring import checkin, signing
from sofno.monitoring.models import Command, CommandKind, CommandStatus, CommandTemplate


@pytest.fixture
def device(make_device):
    device, key = make_device()
    device.key = key
    return device


@pytest.fixture
def template(cast):
    return CommandTemplate.objects.create(
        organization=cast.org,
        name="Cleanup",
        kind=CommandKind.RUN_SCRIPT,
        argument="cleanup",
        timeout=10,
    )


@pytest.fixture
def agent_config(device, tmp_path):
    marker = tmp_path / "ran.txt"
    script = tmp_path / "cleanup.py"
    script.write_text(
        "import os, sys\n"
        f"open({str(marker)!r}, 'w').write(os.environ['SOFNO_COMMAND_ID'])\n"
        "print('cleaned'); sys.exit(3)\n"
    )
    return {
        "device": str(device.public_id),
        "public_key": signing.public_key_b64(),
        "allow": {
            **runner.EMPTY_ALLOWLIST,
            "run_script": {"cleanup": [sys.executable, str(script)]},
        },
        "done": [],
        "marker": marker,
    }


def issue(api_client, key, device, template):
    return api_client(key).post(
        f"/devices/{device.public_id}/commands", {"template": str(template.public_id)}
    )


def delivered(device):
    """The commands the device gets on its next check-in."""
    return checkin.handle(device.key, None, None).body["commands"]


def test_it_lets_admins_issue_and_hands_the_command_out_once(cast, api_client, device, template):
    response = issue(api_client, cast.key, device, template)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    first, second = delivered(device), delivered(device)
    assert len(first) == 1 and second == []
    payload = json.loads(first[0]["payload"])
    assert payload["device"] == str(device.public_id)
    assert payload["kind"] == "run_script" and payload["argument"] == "cleanup"
    assert Command.objects.get().status == CommandStatus.SENT
    assert AuditEntry.objects.filter(action="command.issued").count() == 1


def test_it_lets_only_allowed_roles_issue(cast, api_client, device, template, client):
    assert issue(api_client, cast.readonly_key, device, template).status_code == 403
    from sofno.monitoring.commands import issue_command

    agent = Actor(organization=cast.org, role="agent", user=cast.agent)
    with pytest.raises(Exception, match="command_role"):
        issue_command(acting_user=agent, device=device, template=template)
    template.allowed_roles = ["agent"]
    template.save()
    assert issue_command(acting_user=agent, device=device, template=template).pk
    viewer = Actor(organization=cast.org, role="viewer", user=cast.viewer)
    with pytest.raises(Exception, match=r"read_only|command_role"):
        issue_command(acting_user=viewer, device=device, template=template)


def test_it_keeps_another_organization_from_seeing_or_commanding(
    cast, api_client, device, template
):
    assert issue(api_client, cast.other_key, device, template).status_code == 404
    other_template = CommandTemplate.objects.create(
        organization=cast.other_org, name="Evil", kind=CommandKind.REBOOT
    )
    response = issue(api_client, cast.key, device, other_template)
    assert response.status_code == 422
    assert (
        api_client(cast.other_key).get(f"/devices/{device.public_id}/commands").status_code == 404
    )
    assert not Command.objects.exists()


def test_it_runs_a_verified_allowlisted_command_and_stores_the_result(
    cast, api_client, device, template, agent_config, client
):
    issue(api_client, cast.key, device, template)
    (item,) = delivered(device)
    command_id, result = runner.execute(agent_config, item)
    assert result == {"status": "failed", "exit_code": 3, "output": "cleaned\n"}
    assert agent_config["marker"].read_text() == command_id
    response = client.post(
        f"/api/v1/agent/commands/{command_id}/result",
        {**result, "output": "x" * 70_000},
        content_type="application/json",
        headers={"Authorization": f"Device {device.key}"},
    )
    assert response.status_code == 200, response.content
    stored = Command.objects.get()
    assert stored.status == "failed" and stored.exit_code == 3
    assert stored.output_truncated and len(stored.output) == 64 * 1024
    assert AuditEntry.objects.filter(action="command.finished").count() == 1
    shown = api_client(cast.key).get(f"/devices/{device.public_id}/commands").json()
    assert shown[0]["exit_code"] == 3


def test_the_agent_rejects_a_tampered_command(cast, api_client, device, template, agent_config):
    issue(api_client, cast.key, device, template)
    (item,) = delivered(device)
    payload = json.loads(item["payload"])
    payload["argument"] = "cleanup-everything"
    tampered = {"payload": signing.canonical(payload), "signature": item["signature"]}
    # Refused, and neither reported nor remembered: its id is not to be believed.
    assert runner.execute(agent_config, tampered) is None
    assert runner.check(agent_config, tampered) == (None, "signature does not verify")
    assert not agent_config["marker"].exists()
    # A flipped bit in the signature fails too, with and without ``cryptography``.
    signature = bytearray(base64.b64decode(item["signature"]))
    signature[5] ^= 1
    public = base64.b64decode(agent_config["public_key"])
    message = item["payload"].encode()
    assert not ed25519.verify(public, message, bytes(signature))
    assert not ed25519.verify_pure(public, message, bytes(signature))
    assert ed25519.verify_pure(public, message, base64.b64decode(item["signature"]))


def test_the_agent_refuses_a_command_not_in_its_allowlist(
    cast, api_client, device, template, agent_config
):
    reboot = CommandTemplate.objects.create(
        organization=cast.org, name="Reboot", kind=CommandKind.REBOOT
    )
    issue(api_client, cast.key, device, reboot)
    issue(api_client, cast.key, device, template)
    reboot_item, script_item = delivered(device)
    _, result = runner.execute(agent_config, reboot_item)
    assert result["status"] == "refused" and "allowlist" in result["output"]
    agent_config["allow"]["run_script"] = {}
    _, result = runner.execute(agent_config, script_item)
    assert result["status"] == "refused"
    assert not agent_config["marker"].exists()


def test_the_agent_refuses_a_command_for_another_device_or_a_replay(
    cast, api_client, device, template, agent_config, make_device
):
    issue(api_client, cast.key, device, template)
    (item,) = delivered(device)
    other, _ = make_device("Till 2")
    _, result = runner.execute({**agent_config, "device": str(other.public_id)}, item)
    assert "another device" in result["output"]
    command_id = json.loads(item["payload"])["id"]
    _, result = runner.execute({**agent_config, "done": [command_id]}, item)
    assert "already run" in result["output"]
    assert not agent_config["marker"].exists()


def test_it_accepts_results_only_from_the_commanded_device(
    cast, api_client, device, template, client, make_device
):
    issue(api_client, cast.key, device, template)
    (item,) = delivered(device)
    command_id = json.loads(item["payload"])["id"]
    _, other_key = make_device("Till 2")
    body = {"status": "succeeded", "exit_code": 0, "output": ""}
    url = f"/api/v1/agent/commands/{command_id}/result"
    wrong = client.post(
        url, body, content_type="application/json", headers={"Authorization": f"Device {other_key}"}
    )
    assert wrong.status_code == 422
    unknown = client.post(
        url, body, content_type="application/json", headers={"Authorization": "Device dk_nope"}
    )
    assert unknown.status_code == 401
    assert Command.objects.get().status == CommandStatus.SENT
