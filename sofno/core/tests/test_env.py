import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from sofno.core.env import env_bool, env_int, env_list, env_str, secret_key


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "enabled"])
def test_it_rejects_a_malformed_boolean_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("SOFNO_X_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match=r"SOFNO_X_FLAG must be a boolean"):
        env_bool("SOFNO_X_FLAG")


@pytest.mark.parametrize(("raw", "expected"), [("yes", True), (" ON ", True), ("0", False)])
def test_it_reads_boolean_words(monkeypatch, raw, expected):
    monkeypatch.setenv("SOFNO_X_FLAG", raw)
    assert env_bool("SOFNO_X_FLAG", default=not expected) is expected


def test_it_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("SOFNO_X_FLAG", raising=False)
    assert env_bool("SOFNO_X_FLAG", True) is True
    assert env_int("SOFNO_X_FLAG", 7) == 7
    assert env_list("SOFNO_X_FLAG", ["a"]) == ["a"]
    assert env_str("SOFNO_X_FLAG", "d") == "d"


def test_it_treats_an_empty_value_as_unset(monkeypatch):
    monkeypatch.setenv("SOFNO_X_URL", "  ")
    assert env_str("SOFNO_X_URL", "sqlite:///x") == "sqlite:///x"
    assert env_int("SOFNO_X_URL", 3) == 3


@pytest.mark.parametrize("raw", ["ten", "1.5", "4 threads", "0x10"])
def test_it_rejects_a_malformed_integer_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("SOFNO_X_COUNT", raw)
    with pytest.raises(ImproperlyConfigured, match=r"SOFNO_X_COUNT must be a whole number"):
        env_int("SOFNO_X_COUNT", 1)


def test_it_splits_lists_and_drops_empty_items(monkeypatch):
    monkeypatch.setenv("SOFNO_X_HOSTS", " a.example , ,b.example,")
    assert env_list("SOFNO_X_HOSTS") == ["a.example", "b.example"]


def test_it_rejects_a_short_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("SOFNO_SECRET_KEY", "too-short")
    with pytest.raises(ImproperlyConfigured, match=r"SOFNO_SECRET_KEY must be at least 32"):
        secret_key(tmp_path)


def test_it_generates_a_private_secret_key_once(monkeypatch, tmp_path):
    monkeypatch.delenv("SOFNO_SECRET_KEY", raising=False)
    first = secret_key(tmp_path)
    assert len(first) >= 32
    assert secret_key(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode & (stat.S_IRWXG | stat.S_IRWXO) == 0
