#!/usr/bin/env bash
# Release one image to an ECS environment with Temporal worker versioning (run by deploy.yml).
#
#   CLUSTER=pulse-prod IMAGE=<repo>:<sha> BUILD_ID=<sha> SUBNETS=subnet-a,subnet-b \
#   SECURITY_GROUP=sg-... WORKER_GROUPS="interactive background documents media" \
#   TEMPORAL_ADDRESS=... TEMPORAL_NAMESPACE=... TEMPORAL_API_KEY=... infra/deploy/release.sh
#
# 1. registers task definition revisions with the new image (every container of our
#    repository: pulse, the backlog exporter), PULSE_WORKER_DEPLOYMENT_NAME
#    (= the cluster) and PULSE_WORKER_BUILD_ID;
# 2. runs `pulse migrate` as a one-off task and stops on a non-zero exit;
# 3. starts the new version on each worker group's idle colour (blue/green) and rolls the API;
# 4. waits for the services to be stable, else scales the new colour back to 0 (the API's
#    circuit breaker rolls it back) and fails, leaving the current version untouched;
# 5. makes the new version current in Temporal: new workflows start on it, running ones stay
#    pinned to the version they started on, whose workers keep running;
# 6. writes the old colours to $GITHUB_OUTPUT (or stdout) for drain.sh.
set -euo pipefail

: "${CLUSTER:?}" "${IMAGE:?}" "${BUILD_ID:?}" "${SUBNETS:?}" "${SECURITY_GROUP:?}" "${WORKER_GROUPS:?}"
MIGRATE_FAMILY="${MIGRATE_FAMILY:-$CLUSTER-migrate}"
OUTPUT="${GITHUB_OUTPUT:-/dev/stdout}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# new_revision <task definition family or ARN> -> ARN of a revision running $IMAGE as $BUILD_ID
new_revision() {
  aws ecs describe-task-definition --task-definition "$1" --query taskDefinition >"$WORK/current.json"
  jq --arg image "$IMAGE" --arg repo "${IMAGE%:*}" --arg build "$BUILD_ID" --arg deployment "$CLUSTER" '
    .containerDefinitions |= map(
      if (.image | startswith($repo + ":")) then
        .image = $image
        | .environment = ([(.environment // [])[]
            | select(.name != "PULSE_WORKER_BUILD_ID" and .name != "PULSE_WORKER_DEPLOYMENT_NAME")]
            + [{name: "PULSE_WORKER_DEPLOYMENT_NAME", value: $deployment},
               {name: "PULSE_WORKER_BUILD_ID", value: $build}])
      else . end)
    | {family, taskRoleArn, executionRoleArn, networkMode, containerDefinitions, volumes,
       requiresCompatibilities, cpu, memory, runtimePlatform}
    | with_entries(select(.value != null))' "$WORK/current.json" >"$WORK/next.json"
  aws ecs register-task-definition --cli-input-json "file://$WORK/next.json" \
    --query taskDefinition.taskDefinitionArn --output text
}

desired() {
  aws ecs describe-services --cluster "$CLUSTER" --services "$1" --query 'services[0].desiredCount' --output text
}

task_definition_of() {
  aws ecs describe-services --cluster "$CLUSTER" --services "$1" --query 'services[0].taskDefinition' --output text
}

capacity() {  # capacity <service> -> "min max"
  aws application-autoscaling describe-scalable-targets --service-namespace ecs \
    --resource-ids "service/$CLUSTER/$1" --query 'ScalableTargets[0].[MinCapacity,MaxCapacity]' --output text
}

set_capacity() {  # set_capacity <service> <min> <max>
  aws application-autoscaling register-scalable-target --service-namespace ecs \
    --scalable-dimension ecs:service:DesiredCount --resource-id "service/$CLUSTER/$1" \
    --min-capacity "$2" --max-capacity "$3"
}

run_migrations() {
  local revision task exit_code
  revision="$(new_revision "$MIGRATE_FAMILY")"
  log "migrations: $revision"
  task="$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$revision" --launch-type FARGATE \
    --network-configuration "awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}" \
    --query 'tasks[0].taskArn' --output text)"
  aws ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$task"
  # shellcheck disable=SC2016 # the backticks are JMESPath literals, not shell
  exit_code="$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$task" \
    --query 'tasks[0].containers[?name==`pulse`].exitCode | [0]' --output text)"
  if [ "$exit_code" != "0" ]; then
    log "migrations failed (exit $exit_code): see the migrate log group"
    exit 1
  fi
}

main() {
  run_migrations
  local started=() old=() group blue green active idle count bounds
  for group in $WORKER_GROUPS; do
    blue="$(desired "worker-$group-blue")"
    green="$(desired "worker-$group-green")"
    if [ "$blue" -gt 0 ] && [ "$green" -gt 0 ]; then
      log "worker-$group: both colours run (the previous version is still draining); run drain.sh first"
      exit 1
    fi
    if [ "$green" -gt 0 ]; then active=green; idle=blue; else active=blue; idle=green; fi
    bounds="$(capacity "worker-$group-$active")"
    count="$(desired "worker-$group-$active")"
    [ "$count" -gt 0 ] || count="${bounds%%[[:space:]]*}"
    log "worker-$group: $active -> $idle ($count tasks)"
    aws ecs update-service --cluster "$CLUSTER" --service "worker-$group-$idle" \
      --task-definition "$(new_revision "$(task_definition_of "worker-$group-$active")")" \
      --desired-count "$count" >/dev/null
    # shellcheck disable=SC2086 # "min max" splits into two arguments on purpose
    set_capacity "worker-$group-$idle" $bounds
    started+=("worker-$group-$idle")
    old+=("worker-$group-$active")
  done
  aws ecs update-service --cluster "$CLUSTER" --service api \
    --task-definition "$(new_revision "$(task_definition_of api)")" >/dev/null
  aws ecs update-service --cluster "$CLUSTER" --service backlog-exporter \
    --task-definition "$(new_revision "$(task_definition_of backlog-exporter)")" >/dev/null
  log "waiting for api ${started[*]} to be stable"
  if ! aws ecs wait services-stable --cluster "$CLUSTER" --services api "${started[@]}"; then
    log "not stable: scaling the new version down; the current version is unchanged"
    for service in "${started[@]}"; do
      set_capacity "$service" 0 0
      aws ecs update-service --cluster "$CLUSTER" --service "$service" --desired-count 0 >/dev/null
    done
    exit 1
  fi
  temporal worker deployment set-current-version --deployment-name "$CLUSTER" --build-id "$BUILD_ID" --yes
  log "version $BUILD_ID is current"
  printf 'old_services=%s\n' "${old[*]}" >>"$OUTPUT"
}

main "$@"
