"""Terraform, checked without Terraform: every .tf parses (hcl2, the parser checkov uses),
every module call passes only declared variables and all required ones, every referenced
module output exists, the environments share one main.tf, and the values that must match the
code (queues, search attributes, PULSE_* names) do."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from core.settings import Settings
from workflows import ALL_QUEUES, SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "infra" / "terraform"
# Settings the storage branch adds (core/settings.py there); drop each once it is in Settings.
PENDING_SETTINGS = {
    "PULSE_STORAGE_BACKEND",
    "PULSE_S3_ENDPOINT_URL",
    "PULSE_S3_REGION",
    "PULSE_S3_BUCKET_ASSETS",
    "PULSE_S3_BUCKET_QUARANTINE",
    "PULSE_S3_SSE",
    "PULSE_S3_KMS_KEY_ID",
    "PULSE_CLAMD_ADDRESS",
}


def load_tfdocs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tfdocs", TERRAFORM / "tfdocs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["tfdocs"] = module
    spec.loader.exec_module(module)
    return module


tfdocs = load_tfdocs()


def known_settings() -> set[str]:
    return {f"PULSE_{name.upper()}" for name in Settings.model_fields} | PENDING_SETTINGS


def all_tf_files() -> list[Path]:
    return sorted(TERRAFORM.rglob("*.tf"))


def test_every_tf_file_parses() -> None:
    files = all_tf_files()
    assert len(files) >= 50
    for path in files:
        parsed = tfdocs.parse_file(path)
        assert parsed, f"{path} parsed to nothing"


@pytest.mark.parametrize("root", tfdocs.root_dirs(), ids=lambda p: p.name)
def test_module_calls_match_the_modules(root: Path) -> None:
    directory = tfdocs.read_directory(root)
    called = {}
    for call in directory.calls:
        target = (root / call.source).resolve()
        assert target.is_dir(), f"{root.name}: module {call.name} sources missing {call.source}"
        module = tfdocs.read_directory(target)
        undeclared = call.arguments - module.variables.keys()
        assert not undeclared, f"{root.name}: module {call.name} passes undeclared {sorted(undeclared)}"
        required = {v.name for v in module.variables.values() if v.required}
        missing = required - call.arguments
        assert not missing, f"{root.name}: module {call.name} lacks required {sorted(missing)}"
        called[call.name] = module
    text = "\n".join(directory.texts.values())
    for name, output in set(re.findall(r"\bmodule\.([a-z_0-9]+)\.([a-z_0-9]+)", text)):
        assert name in called, f"{root.name}: module.{name} is not declared"
        assert output in called[name].outputs, f"{root.name}: module.{name} has no output {output!r}"
    for name in set(re.findall(r"\bvar\.([a-z_0-9]+)", text)):
        assert name in directory.variables, f"{root.name}: var.{name} is not declared"


@pytest.mark.parametrize("module", tfdocs.module_dirs(), ids=lambda p: p.name)
def test_each_module_has_variables_outputs_and_a_current_readme(module: Path) -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (module / name).exists(), f"{module.name}/{name} is missing"
    directory = tfdocs.read_directory(module)
    assert directory.outputs, f"{module.name} has no outputs"
    text = "\n".join(directory.texts.values())
    for name in set(re.findall(r"\bvar\.([a-z_0-9]+)", text)):
        assert name in directory.variables, f"{module.name}: var.{name} is not declared"
    for variable in directory.variables.values():
        assert variable.description, f"{module.name}: variable {variable.name} has no description"
    assert (module / "README.md").read_text() == tfdocs.rendered_readme(module), (
        f"{module.name}/README.md is stale: run python infra/terraform/tfdocs.py"
    )


def test_every_module_is_used_by_both_environments() -> None:
    modules = {p.name for p in tfdocs.module_dirs()}
    for env in ("staging", "prod"):
        used = {Path(c.source).name for c in tfdocs.read_directory(TERRAFORM / "envs" / env).calls}
        assert used == modules, f"{env} does not compose {sorted(modules - used)}"


def test_environments_differ_only_in_their_values() -> None:
    prod, staging = TERRAFORM / "envs" / "prod", TERRAFORM / "envs" / "staging"
    assert {p.name for p in prod.glob("*.tf")} == {p.name for p in staging.glob("*.tf")}
    for path in prod.glob("*.tf"):
        assert path.read_text() == (staging / path.name).read_text(), f"envs/*/{path.name} differ"
    for env in (prod, staging):
        values = tfdocs.parse_file_values(env / "terraform.tfvars")
        variables = tfdocs.read_directory(env).variables
        assert set(values) <= set(variables), f"{env.name}: unknown tfvars {set(values) - set(variables)}"
        missing = {v.name for v in variables.values() if v.required} - set(values)
        assert not missing, f"{env.name}: terraform.tfvars lacks {sorted(missing)}"
        assert values["environment"] == env.name


def test_worker_groups_cover_every_queue_exactly_once() -> None:
    env = TERRAFORM / "envs" / "prod"
    default = tfdocs.read_directory(env).variables["worker_groups"].default
    staging = tfdocs.parse_file_values(TERRAFORM / "envs" / "staging" / "terraform.tfvars")
    groups = [default, staging["worker_groups"]]
    groups.append(tfdocs.read_directory(TERRAFORM / "modules" / "ecs").variables["worker_groups"].default)
    for group in groups:
        queues = [q for spec in group.values() for q in spec["queues"]]
        assert sorted(queues) == sorted(ALL_QUEUES), queues


def test_temporal_search_attributes_match_the_code() -> None:
    text = (TERRAFORM / "modules" / "temporal" / "main.tf").read_text()
    listed = re.search(r"search_attributes = \[([^\]]*)\]", text)
    assert listed
    assert re.findall(r'"(\w+)"', listed.group(1)) == [key.name for key in SEARCH_ATTRIBUTES]


def test_container_settings_are_known_pulse_settings() -> None:
    """A misspelt PULSE_* variable would stop every container (load_settings refuses it)."""
    text = (TERRAFORM / "envs" / "prod" / "main.tf").read_text()
    text += (TERRAFORM / "modules" / "ecs" / "main.tf").read_text()
    names = set(re.findall(r"\b(PULSE_[A-Z0-9_]+)\b", text))
    secrets = tfdocs.read_directory(TERRAFORM / "modules" / "secrets")
    names |= set(secrets.variables["operator_secrets"].default)
    secrets_main = secrets.texts[TERRAFORM / "modules" / "secrets" / "main.tf"]
    names |= set(re.findall(r'"(PULSE_[A-Z0-9_]+)"', secrets_main))
    assert {"PULSE_DATABASE_URL", "PULSE_REDIS_URL", "PULSE_SECRET_KEY", "PULSE_TEMPORAL_API_KEY"} <= names
    assert not names - known_settings(), f"unknown settings: {sorted(names - known_settings())}"
