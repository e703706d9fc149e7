"""deploy/: the systemd units run what ``make run`` runs, and the environment file names every setting."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from helpline import services
from helpline.settings import REPO_ROOT, load_settings

DEPLOY = REPO_ROOT / "deploy"
ENV_FILE = DEPLOY / "helpline.env"
SETTINGS_SOURCE = REPO_ROOT / "helpline" / "settings.py"


def _env_file() -> dict[str, str]:
    lines = [line for line in ENV_FILE.read_text(encoding="utf-8").splitlines() if "=" in line]
    pairs = [line.split("=", 1) for line in lines if not line.startswith("#")]
    return {name.strip(): value.strip() for name, value in pairs}


def _unit(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(path, encoding="utf-8")
    return unit


def test_the_environment_file_names_every_setting_the_code_reads_and_no_other() -> None:
    read = set(re.findall(r'"((?:HELPLINE|TELEGRAM)_[A-Z_]+)"', SETTINGS_SOURCE.read_text(encoding="utf-8")))
    named = set(_env_file()) - {"HF_HUB_OFFLINE"}
    assert read - named == set(), "settings missing from deploy/helpline.env"
    assert named - read == set(), "deploy/helpline.env names settings the code does not read"


def test_the_environment_file_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _env_file().items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.database_url.startswith("postgresql") and settings.redis_url.startswith("redis://")
    assert settings.host == "127.0.0.1", "only the reverse proxy is exposed"


@pytest.mark.parametrize("name", services.SERVICE_NAMES)
def test_each_unit_runs_the_service_as_make_run_does(name: str) -> None:
    unit = _unit(DEPLOY / "systemd" / f"helpline-{name}.service")
    service = unit["Service"]
    assert service["ExecStart"].split()[-2:] == ["serve", name]
    assert service["EnvironmentFile"] == "/etc/helpline/helpline.env"
    assert service["Restart"] == "always"


def test_the_gateway_never_requires_rasa() -> None:
    """The crisis path holds with the NLU down: a Rasa that fails must not stop the gateway."""
    unit = _unit(DEPLOY / "systemd" / "helpline-gateway.service")["Unit"]
    assert "Requires" not in unit and "BindsTo" not in unit
    assert "helpline-rasa.service" in unit["Wants"]


def test_the_purge_runs_every_night() -> None:
    purge = _unit(DEPLOY / "systemd" / "helpline-purge.service")["Service"]
    assert purge["ExecStart"].endswith("helpline purge")
    assert _unit(DEPLOY / "systemd" / "helpline-purge.timer")["Timer"]["OnCalendar"]


def test_the_proxy_serves_only_the_gateway_over_https() -> None:
    text = (DEPLOY / "nginx" / "helpline.conf").read_text(encoding="utf-8")
    conf = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "server 127.0.0.1:8000;" in conf and "5005" not in conf and "5055" not in conf
    assert "listen 443 ssl;" in conf and "return 301 https://" in conf
    assert "client_max_body_size 256k;" in conf
