"""The production compose file against the code: settings names, queues, search attributes,
and the Dockerfile's promises (non-root, no dev groups, HEALTHCHECK). The schema check itself
is `make lint-infra` (check-jsonschema with the compose-spec schema)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.test_terraform import known_settings
from workflows import ALL_QUEUES, SEARCH_ATTRIBUTES

DOCKER = Path(__file__).resolve().parents[2] / "infra" / "docker"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return loaded


def test_every_pulse_variable_is_a_setting() -> None:
    names = {key for service in compose()["services"].values() for key in (service.get("environment") or {})}
    names |= set(compose()["x-pulse-env"])
    pulse = {name for name in names if name.startswith("PULSE_")}
    assert {"PULSE_SECRET_KEY", "PULSE_DATABASE_URL", "PULSE_REDIS_URL"} <= pulse
    assert not pulse - known_settings(), sorted(pulse - known_settings())


def test_workers_poll_every_queue_and_the_api_runs_twice() -> None:
    services = compose()["services"]
    polled = []
    for name, service in services.items():
        command = service.get("command") or []
        if name.startswith("worker-"):
            assert command[0] == "worker"
            polled += [command[i + 1] for i, arg in enumerate(command) if arg == "-q"]
    assert sorted(polled) == sorted(ALL_QUEUES)
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["migrate"]["command"] == ["migrate"]
    for name in ("api", "worker-background"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_search_attributes_are_registered_at_start() -> None:
    script = compose()["services"]["temporal-setup"]["command"][0]
    listed = re.search(r"for name in ([\w ]+); do", script)
    assert listed and listed.group(1).split() == [key.name for key in SEARCH_ATTRIBUTES]


def test_the_image_runs_as_a_user_without_dev_tools() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    syncs = re.findall(r"uv sync [^\n]*", dockerfile)
    assert syncs and all("--frozen" in s and "--no-dev" in s and "--no-default-groups" in s for s in syncs)
    final_stage = dockerfile.rsplit("FROM ", 1)[1]
    assert re.search(r"^USER 10001", final_stage, re.M)
    assert "HEALTHCHECK" in final_stage
    assert not re.search(r"^(ENV|ARG)\s+\S*(SECRET|KEY|TOKEN|PASSWORD)", dockerfile, re.M | re.I)
