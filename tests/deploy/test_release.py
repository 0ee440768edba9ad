"""The deploy role may do exactly what the release needs: every `aws <service> <command>` in
infra/deploy/*.sh and deploy.yml maps to an IAM action the iam module grants that role."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAITERS = {("ecs", "services-stable"): "DescribeServices", ("ecs", "tasks-stopped"): "DescribeTasks"}


def cli_calls() -> set[str]:
    text = "\n".join(p.read_text() for p in sorted((ROOT / "infra" / "deploy").glob("*.sh")))
    text += (ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    actions = set()
    for service, command, rest in re.findall(r"\baws ([a-z-]+) ([a-z-]+)(?: ([a-z-]+))?", text):
        if command == "wait":
            actions.add(f"{service}:{WAITERS[(service, rest)]}")
        else:
            actions.add(f"{service}:{''.join(part.title() for part in command.split('-'))}")
    return actions


def granted_to_deploy() -> set[str]:
    text = (ROOT / "infra" / "terraform" / "modules" / "iam" / "main.tf").read_text()
    block = text[text.index('data "aws_iam_policy_document" "deploy"') :]
    block = block[: block.index('resource "aws_iam_role_policy" "deploy"')]
    return set(re.findall(r'"([a-z0-9-]+:[A-Za-z]+)"', block))


def test_release_scripts_call_aws() -> None:
    calls = cli_calls()
    assert {"ecs:RunTask", "ecs:UpdateService", "application-autoscaling:RegisterScalableTarget"} <= calls


def test_the_deploy_role_grants_every_call_the_release_makes() -> None:
    missing = cli_calls() - granted_to_deploy()
    assert not missing, f"the deploy role lacks {sorted(missing)}"
