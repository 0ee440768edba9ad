# Fargate: the API behind the ALB and, per worker group, two services (blue, green), all from
# one image. A release (infra/deploy/release.sh) starts the new Worker Deployment Version on the
# idle colour, makes it current in Temporal, and scales the old colour down once Temporal says
# its pinned workflows have drained. Deploys use the circuit breaker (automatic rollback); the
# image and task definition revisions belong to the release, so Terraform ignores them.
data "aws_region" "this" {}

locals {
  region = data.aws_region.this.region
  environment = [for k, v in merge(var.environment, { PULSE_HTTP_HOST = "0.0.0.0", PULSE_HTTP_PORT = "8000" }) : {
    name = k, value = v
  }]
  secrets      = [for k, arn in var.secret_arns : { name = k, valueFrom = arn }]
  healthcheck  = ["CMD", "python", "/app/infra/docker/healthcheck.py"]
  worker_bind  = "127.0.0.1:9100"
  log_options  = { "awslogs-region" = local.region, "awslogs-stream-prefix" = "pulse" }
  writable     = [{ sourceVolume = "tmp", containerPath = "/tmp" }, { sourceVolume = "var", containerPath = "/var/lib/pulse" }]
  task_queue   = { for group, w in var.worker_groups : group => [for q in w.queues : "${var.temporal_task_queue_prefix}${q}"] }
  # worker-<group>-<colour>; blue starts active, green idle.
  colours = merge([for group, w in var.worker_groups : {
    for colour in ["blue", "green"] : "${group}-${colour}" => merge(w, { group = group, active = colour == "blue" })
  }]...)
}

resource "aws_ecs_cluster" "this" {
  # checkov:skip=CKV_AWS_65:containerInsights is "enhanced" (a superset of "enabled", which is all checkov 3.0 knows)
  name = var.cluster_name
  setting {
    name  = "containerInsights"
    value = "enhanced"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_service_discovery_private_dns_namespace" "this" {
  name = "${var.cluster_name}.internal"
  vpc  = var.vpc_id
}

# --- security groups ---
resource "aws_security_group" "tasks" {
  name        = "${var.cluster_name}-tasks"
  description = "Pulse API and worker tasks"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "api_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "API from the ALB"
  referenced_security_group_id = var.alb_security_group_id
  from_port                    = 8000
  to_port                      = 8000
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS: providers, HyperPay, AWS APIs"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "temporal" {
  security_group_id = aws_security_group.tasks.id
  description       = "Temporal (Cloud or self-hosted frontend)"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 7233
  to_port           = 7233
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "vpc" {
  for_each          = toset(["5432", "6379", "3310"])
  security_group_id = aws_security_group.tasks.id
  description       = "PostgreSQL, Redis and clamd inside the VPC"
  cidr_ipv4         = var.vpc_cidr
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  ip_protocol       = "tcp"
}

resource "aws_security_group" "clamd" {
  name        = "${var.cluster_name}-clamd"
  description = "clamd: 3310 from the Pulse tasks"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "clamd" {
  security_group_id            = aws_security_group.clamd.id
  description                  = "clamd from the Pulse tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  from_port                    = 3310
  to_port                      = 3310
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "clamd_updates" {
  security_group_id = aws_security_group.clamd.id
  description       = "freshclam signature updates over HTTPS"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

# --- task definitions ---
resource "aws_ecs_task_definition" "api" {
  family                   = "${var.cluster_name}-api"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.api.cpu
  memory                   = var.api.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arns["api"]
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  volume {
    name = "tmp"
  }
  volume {
    name = "var"
  }
  container_definitions = jsonencode([{
    name                   = "pulse"
    image                  = var.image
    command                = ["api"]
    essential              = true
    user                   = "10001"
    readonlyRootFilesystem = true
    portMappings           = [{ containerPort = 8000, protocol = "tcp" }]
    environment            = local.environment
    secrets                = local.secrets
    mountPoints            = local.writable
    stopTimeout            = 30
    healthCheck            = { command = local.healthcheck, interval = 15, timeout = 5, retries = 3, startPeriod = 30 }
    logConfiguration = {
      logDriver = "awslogs"
      options   = merge(local.log_options, { "awslogs-group" = var.log_group_names["api"] })
    }
  }])
}

resource "aws_ecs_task_definition" "worker" {
  for_each                 = var.worker_groups
  family                   = "${var.cluster_name}-worker-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arns["worker"]
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  volume {
    name = "tmp"
  }
  volume {
    name = "var"
  }
  container_definitions = jsonencode(concat([{
    name                   = "pulse"
    image                  = var.image
    command                = concat(["worker"], flatten([for q in each.value.queues : ["-q", q]]))
    essential              = true
    user                   = "10001"
    readonlyRootFilesystem = true
    environment            = concat(local.environment, [{ name = "PULSE_WORKER_METRICS_BIND", value = local.worker_bind }])
    secrets                = local.secrets
    mountPoints            = local.writable
    stopTimeout            = 120 # running activities finish or heartbeat out before SIGKILL
    healthCheck            = { command = local.healthcheck, interval = 15, timeout = 5, retries = 3, startPeriod = 30 }
    logConfiguration = {
      logDriver = "awslogs"
      options   = merge(local.log_options, { "awslogs-group" = var.log_group_names["worker-${each.key}"] })
    }
    }], each.value.scrape_metrics ? [{
    # The CloudWatch agent scrapes the worker's /metrics (payments, ledger) into Pulse/App.
    name                   = "cloudwatch-agent"
    image                  = var.cloudwatch_agent_image
    essential              = false
    readonlyRootFilesystem = false
    environment = [
      { name = "PROMETHEUS_CONFIG_CONTENT", value = yamlencode({
        global = { scrape_interval = "30s" }
        scrape_configs = [{
          job_name       = "pulse-worker"
          static_configs = [{ targets = [local.worker_bind] }]
        }]
      }) },
      { name = "CW_CONFIG_CONTENT", value = jsonencode({
        logs = {
          force_flush_interval = 5
          metrics_collected = {
            prometheus = {
              prometheus_config_path = "env:PROMETHEUS_CONFIG_CONTENT"
              emf_processor = {
                metric_namespace = "Pulse/App"
                metric_declaration = [{
                  source_labels    = ["job"]
                  label_matcher    = "^pulse-worker$"
                  dimensions       = [["kind", "outcome"]]
                  metric_selectors = ["^pulse_payments_total$", "^pulse_ledger_operations_total$"]
                }]
              }
            }
          }
        }
      }) },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options   = merge(local.log_options, { "awslogs-group" = var.log_group_names["worker-${each.key}"] })
    }
  }] : []))
}

# --- services ---
resource "aws_ecs_service" "api" {
  name                              = "api"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.api.arn
  desired_count                     = var.api.min
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = 60
  enable_execute_command            = false
  propagate_tags                    = "SERVICE"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "pulse"
    container_port   = 8000
  }
  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

resource "aws_ecs_service" "worker" {
  for_each                           = local.colours
  name                               = "worker-${each.key}"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.worker[each.value.group].arn
  desired_count                      = each.value.active ? each.value.min : 0
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

# --- clamd (scans uploads in quarantine), reachable as clamd.<cluster>.internal:3310 ---
resource "aws_service_discovery_service" "clamd" {
  name = "clamd"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.this.id
    dns_records {
      type = "A"
      ttl  = 10
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_task_definition" "clamd" {
  family                   = "${var.cluster_name}-clamd"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 1024
  memory                   = 4096 # the signature database needs ~3 GB while reloading
  execution_role_arn       = var.execution_role_arn
  container_definitions = jsonencode([{
    name                   = "clamd"
    image                  = var.clamd_image
    essential              = true
    readonlyRootFilesystem = false # freshclam rewrites the signature database in place
    portMappings           = [{ containerPort = 3310, protocol = "tcp" }]
    healthCheck            = { command = ["CMD", "clamdcheck.sh"], interval = 30, timeout = 10, retries = 3, startPeriod = 300 }
    logConfiguration = {
      logDriver = "awslogs"
      options   = merge(local.log_options, { "awslogs-group" = var.log_group_names["clamd"] })
    }
  }])
}

resource "aws_ecs_service" "clamd" {
  name             = "clamd"
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.clamd.arn
  desired_count    = var.clamd_count
  launch_type      = "FARGATE"
  platform_version = "LATEST"
  propagate_tags   = "SERVICE"
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.clamd.id]
    assign_public_ip = false
  }
  service_registries {
    registry_arn = aws_service_discovery_service.clamd.arn
  }
}

# --- the backlog exporter: Temporal task-queue backlog -> CloudWatch Pulse/Temporal ---
resource "aws_ecs_task_definition" "exporter" {
  family                   = "${var.cluster_name}-backlog-exporter"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arns["exporter"]
  container_definitions = jsonencode([{
    name                   = "exporter"
    image                  = var.image
    entryPoint             = ["tini", "--", "python", "/app/infra/docker/backlog_exporter.py"]
    command                = concat(["--interval", "30"], flatten([for q in distinct(flatten(values(var.worker_groups)[*].queues)) : ["--queue", q]]))
    essential              = true
    user                   = "10001"
    readonlyRootFilesystem = true
    environment            = local.environment
    secrets                = local.secrets
    logConfiguration = {
      logDriver = "awslogs"
      options   = merge(local.log_options, { "awslogs-group" = var.log_group_names["exporter"] })
    }
  }])
}

resource "aws_ecs_service" "exporter" {
  name             = "backlog-exporter"
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.exporter.arn
  desired_count    = 1
  launch_type      = "FARGATE"
  platform_version = "LATEST"
  propagate_tags   = "SERVICE"
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  lifecycle {
    ignore_changes = [task_definition]
  }
}

# One-off migrations: deploy.yml runs this family with `aws ecs run-task` before rolling services.
resource "aws_ecs_task_definition" "migrate" {
  family                   = "${var.cluster_name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arns["worker"]
  container_definitions = jsonencode([{
    name                   = "pulse"
    image                  = var.image
    command                = ["migrate"]
    essential              = true
    user                   = "10001"
    readonlyRootFilesystem = true
    environment            = local.environment
    secrets                = local.secrets
    logConfiguration = {
      logDriver = "awslogs"
      options   = merge(local.log_options, { "awslogs-group" = var.log_group_names["migrate"] })
    }
  }])
}

# --- autoscaling ---
resource "aws_appautoscaling_target" "api" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.api.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.api.min
  max_capacity       = var.api.max
}

resource "aws_appautoscaling_policy" "api_cpu" {
  name               = "${var.cluster_name}-api-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = var.api.cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "api_requests" {
  name               = "${var.cluster_name}-api-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = var.api.requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }
  }
}

resource "aws_appautoscaling_target" "worker" {
  for_each           = local.colours
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.worker[each.key].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = each.value.active ? each.value.min : 0
  max_capacity       = each.value.active ? each.value.max : 0
  lifecycle {
    ignore_changes = [min_capacity, max_capacity] # the release moves capacity between colours
  }
}

# Backlog per running task (the exporter's ApproximateBacklogCount summed over the group's
# queues, divided by the service's running tasks) tracked at backlog_per_task.
resource "aws_appautoscaling_policy" "worker_backlog" {
  for_each           = local.colours
  name               = "${var.cluster_name}-worker-${each.key}-backlog"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.worker[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.worker[each.key].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = each.value.backlog_per_task
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    customized_metric_specification {
      dynamic "metrics" {
        for_each = local.task_queue[each.value.group]
        content {
          id          = "q${metrics.key}"
          return_data = false
          metric_stat {
            stat = "Average"
            metric {
              namespace   = "Pulse/Temporal"
              metric_name = "ApproximateBacklogCount"
              dimensions {
                name  = "TaskQueue"
                value = metrics.value
              }
            }
          }
        }
      }
      metrics {
        id          = "tasks"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"
            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.this.name
            }
            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.worker[each.key].name
            }
          }
        }
      }
      metrics {
        id          = "backlog_per_task"
        label       = "backlog per task"
        expression  = "SUM([${join(", ", [for i, _ in local.task_queue[each.value.group] : "q${i}"])}]) / tasks"
        return_data = true
      }
    }
  }
}
