"""The ``sofno`` command: help on every command, ``org create`` and ``apikey create``."""

from __future__ import annotations

import io
import re
import signal
import socket
import subprocess

import httpx
import pytest
from django.core.management import CommandError, call_command

from sofno.cli import main
from sofno.conftest import SOFNO, run_sofno, sofno_env, unexpected_tracebacks
from sofno.core.models import ApiKey, AuditEntry, Membership, Organization, hash_secret

COMMANDS = ["demo", "serve", "worker", "org", "member", "apikey", "oncall", "manage", "agent"]


def _call(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_it_shows_help_for_the_cli_as_a_real_command(tmp_path):
    env = sofno_env(tmp_path)
    top = run_sofno("--help", env=env)
    assert top.returncode == 0
    for name in COMMANDS:
        assert f"  {name} " in top.stdout
    manage = run_sofno("manage", "--help", env=env)
    assert manage.returncode == 0
    assert "usage: sofno manage COMMAND" in manage.stdout and "migrate" in manage.stdout


@pytest.mark.parametrize(
    ("name", "option"),
    [
        ("demo", "--port"),
        ("serve", "--workers"),
        ("worker", "--threads"),
        ("org", "{create,list}"),
        ("apikey", "{create}"),
        ("member", "{add,list,remove,password}"),
        ("oncall", "{schedule,queue,extensions,export,import}"),
    ],
)
def test_it_shows_help_for_each_command(capsys, name, option):
    with pytest.raises(SystemExit) as stopped:
        main([name, "--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: sofno {name}")
    assert option in out


def test_it_creates_an_organization(db):
    out = _call("org", "create", "initech", "--name", "Initech IT", "--timezone", "Europe/Madrid")
    org = Organization.objects.get(slug="initech")
    assert (org.name, org.timezone) == ("Initech IT", "Europe/Madrid")
    assert str(org.public_id) in out
    assert "initech\tInitech IT" in _call("org", "list")


def test_it_refuses_a_duplicate_or_invalid_organization(cast):
    with pytest.raises(CommandError, match="exists already"):
        _call("org", "create", "acme", "--name", "Again")
    with pytest.raises(Exception, match="slug"):
        _call("org", "create", "not a slug", "--name", "Bad")
    with pytest.raises(Exception, match="timezone"):
        _call("org", "create", "mars", "--name", "Mars", "--timezone", "Mars/Olympus")
    assert not Organization.objects.filter(slug__in=["not a slug", "mars"]).exists()
    assert Organization.objects.get(slug="acme").name == "Acme Support"


def test_it_prints_a_new_api_key_once_and_stores_only_its_hash(cast, api_client):
    plain = _call("apikey", "create", "--org", "acme", "--name", "ci").strip()
    key = ApiKey.objects.get(organization=cast.org, name="ci")
    assert plain.startswith("sk_") and len(plain) > 40
    assert key.key_hash == hash_secret(plain)
    stored = [str(v) for v in ApiKey.objects.filter(pk=key.pk).values().get().values()]
    assert plain not in stored and not key.read_only
    assert api_client(plain).get("/customers").status_code == 200
    assert AuditEntry.objects.filter(action="api_key.created", object_id=str(key.public_id))


def test_it_creates_a_read_only_key(cast, api_client):
    plain = _call("apikey", "create", "--org", "acme", "--name", "ro", "--read-only").strip()
    assert ApiKey.objects.get(key_hash=hash_secret(plain)).read_only
    answer = api_client(plain).post("/customers", {"name": "Nope"})
    assert answer.status_code == 403


def test_it_refuses_a_key_for_an_unknown_organization(db):
    with pytest.raises(CommandError, match="no organization"):
        _call("apikey", "create", "--org", "nobody", "--name", "x")
    assert not ApiKey.objects.exists()


@pytest.mark.slow
def test_it_serves_pages_on_a_free_port_and_stops_on_sigterm(tmp_path):
    server = subprocess.Popen(
        [SOFNO, "serve", "--port", "0"],
        env=sofno_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        url = re.search(r"serving on (http://\S+)/", line)[1]
        page = httpx.get(f"{url}/login/", timeout=10)
        assert page.status_code == 200 and 'name="password"' in page.text
        assert httpx.get(f"{url}/static/bootstrap/css/bootstrap.min.css").status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert unexpected_tracebacks(err) == []


def test_it_explains_a_port_that_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            call_command("serve", "--port", str(port))


def test_it_adds_lists_and_removes_members(cast):
    out = _call("member", "add", "giulia", "--email", "g@acme.test", "--name", "Giulia Rossi",
                "--org", "acme")  # fmt: skip
    password = out.split("one-time password: ")[1].strip()
    membership = Membership.objects.get(organization=cast.org, user__username="giulia")
    assert membership.role == "agent" and membership.user.get_full_name() == "Giulia Rossi"
    assert membership.user.check_password(password) and password not in str(
        AuditEntry.objects.values()
    )
    _call("member", "--org", "acme", "add", "marco", "--email", "m@acme.test", "--role", "admin",
          "--password", "a-long-Passphrase-2026")  # fmt: skip
    marco = Membership.objects.get(organization=cast.org, user__username="marco")
    assert marco.role == "admin" and marco.user.check_password("a-long-Passphrase-2026")
    listed = _call("member", "list", "--org", "acme")
    assert "giulia\tagent\tg@acme.test\tGiulia Rossi" in listed and "oscar" not in listed
    _call("member", "remove", "giulia", "--org", "acme")
    assert not Membership.objects.filter(organization=cast.org, user__username="giulia").exists()
    assert AuditEntry.objects.filter(action="member.removed").count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "olivia", "--email", "o@acme.test"], "username"),  # taken
        (["add", "nina", "--email", "not-an-address"], "email"),
        (["add", "nina", "--email", "n@acme.test", "--password", "123"], "password"),
        (["remove", "nobody"], "'nobody' is not a member of acme"),
        (["remove", "olivia"], "the last owner cannot be removed"),
        (["remove", "oscar"], "'oscar' is not a member of acme"),  # globex's owner
    ],
)
def test_it_refuses_bad_member_changes_clearly(cast, args, message):
    before = sorted(Membership.objects.values_list("organization_id", "user__username", "role"))
    with pytest.raises(CommandError, match=message):
        _call("member", *args, "--org", "acme")
    after = sorted(Membership.objects.values_list("organization_id", "user__username", "role"))
    assert after == before


def test_it_needs_an_organization_when_there_are_several(cast):
    with pytest.raises(CommandError, match="--org SLUG"):
        _call("member", "list")
    with pytest.raises(CommandError, match="no organization 'nope'"):
        _call("member", "list", "--org", "nope")
