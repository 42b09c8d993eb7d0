"""``sofno import`` and ``sofno export`` as a person runs them: real processes."""

from __future__ import annotations

import pytest

from sofno.conftest import run_sofno, sofno_env

pytestmark = pytest.mark.slow


def test_it_imports_checks_and_exports_from_the_command_line(tmp_path):
    env = sofno_env(tmp_path / "data")
    created = run_sofno("org", "create", "acme", "--name", "Acme", env=env, timeout=120)
    assert created.returncode == 0, created.stderr
    good = tmp_path / "customers.csv"
    good.write_text("name,city,country\nCafé Central,Girona,es\nBar Roma,Roma,IT\n")
    bad = tmp_path / "devices.csv"
    bad.write_text("customer,name,os\nCafé Central,Till 1,windows\nNowhere,Till 2,linux\n")

    dry = run_sofno("import", "customers", str(good), "--org", "acme", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "2 would be created" in dry.stdout and "dry run" in dry.stdout

    done = run_sofno("import", "customers", str(good), "--org", "acme", env=env)
    assert done.returncode == 0, done.stderr
    assert "2 were created" in done.stdout

    refused = run_sofno("import", "devices", str(bad), "--org", "acme", env=env)
    assert refused.returncode != 0
    assert "line 3, column customer" in refused.stderr
    assert "nothing was imported" in refused.stderr

    out = tmp_path / "customers.xlsx"
    exported = run_sofno("export", "customers", "--org", "acme", "-o", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    again = run_sofno("import", "customers", str(out), "--org", "acme", env=env)
    assert again.returncode == 0, again.stderr
    assert "0 were created, 0 updated, 2 unchanged" in again.stdout

    listed = run_sofno("export", "customers", "--org", "acme", env=env)
    assert listed.stdout.splitlines()[0].startswith("id,name,")
    assert "Café Central" in listed.stdout and ",ES," in listed.stdout
