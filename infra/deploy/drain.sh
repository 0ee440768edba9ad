#!/usr/bin/env bash
# Scale the previous version's worker services to 0 once Temporal reports that no open
# workflow is pinned to it (run by deploy.yml after release.sh; safe to re-run by hand).
#
#   CLUSTER=pulse-prod OLD_SERVICES="worker-interactive-blue ..." TIMEOUT_MINUTES=45 infra/deploy/drain.sh
# (UNVERSIONED_GRACE_MINUTES, default 30: how long unversioned workers are kept after the
# first release, which has no drainage status to wait for.)
set -euo pipefail

: "${CLUSTER:?}" "${OLD_SERVICES:?}"
DEADLINE=$(( $(date +%s) + ${TIMEOUT_MINUTES:-45} * 60 ))
UNVERSIONED_UNTIL=$(( $(date +%s) + ${UNVERSIONED_GRACE_MINUTES:-30} * 60 ))

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

build_id_of() {  # the PULSE_WORKER_BUILD_ID the service's task definition runs
  local task_definition
  task_definition="$(aws ecs describe-services --cluster "$CLUSTER" --services "$1" \
    --query 'services[0].taskDefinition' --output text)"
  aws ecs describe-task-definition --task-definition "$task_definition" --output json \
    | jq -r '.taskDefinition.containerDefinitions[] | select(.name == "pulse")
             | (.environment // [])[] | select(.name == "PULSE_WORKER_BUILD_ID") | .value'
}

drained() {  # drained <build id>: Temporal's drainage status says DRAINED
  if [ -z "$1" ]; then
    # Unversioned workers (the task definitions Terraform first created) have no drainage
    # status: give the workflows they started a fixed grace period.
    [ "$(date +%s)" -ge "$UNVERSIONED_UNTIL" ]
    return
  fi
  temporal worker deployment describe-version --deployment-name "$CLUSTER" --build-id "$1" --output json \
    | jq -e '[.. | strings | select(test("drained"; "i"))] | length > 0' >/dev/null
}

for service in $OLD_SERVICES; do
  build="$(build_id_of "$service")"
  until drained "$build"; do
    if [ "$(date +%s)" -gt "$DEADLINE" ]; then
      log "$service ($build) is still draining; re-run drain.sh later"
      exit 1
    fi
    sleep 30
  done
  log "$service ($build) drained: scaling to 0"
  aws application-autoscaling register-scalable-target --service-namespace ecs \
    --scalable-dimension ecs:service:DesiredCount --resource-id "service/$CLUSTER/$service" \
    --min-capacity 0 --max-capacity 0
  aws ecs update-service --cluster "$CLUSTER" --service "$service" --desired-count 0 >/dev/null
done
