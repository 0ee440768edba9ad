# Log groups (retention, KMS) and the alarms that page: 5xx, task health, database CPU and
# connections, Temporal backlog, payment failures (scraped from the workers' /metrics).
resource "aws_cloudwatch_log_group" "this" {
  for_each          = toset(var.log_groups)
  name              = "/pulse/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.key
}

locals {
  actions = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  alarm_name          = "${var.name}-5xx"
  alarm_description   = "The API answered 5xx more than ${var.max_5xx_per_5min} times in 5 minutes"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.max_5xx_per_5min
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_targets" {
  alarm_name          = "${var.name}-unhealthy-api"
  alarm_description   = "An API task fails its /readyz health check"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

# Running tasks summed over a service's ECS services (a worker group's blue and green).
resource "aws_cloudwatch_metric_alarm" "running_tasks" {
  for_each            = var.service_min_tasks
  alarm_name          = "${var.name}-${each.key}-tasks"
  alarm_description   = "${each.key} runs fewer than ${each.value.min} tasks"
  threshold           = each.value.min
  comparison_operator = "LessThanThreshold"
  evaluation_periods  = 5
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  metric_query {
    id          = "running"
    expression  = "SUM([${join(", ", [for i, _ in each.value.services : "s${i}"])}])"
    label       = "running tasks"
    return_data = true
  }
  dynamic "metric_query" {
    for_each = each.value.services
    content {
      id = "s${metric_query.key}"
      metric {
        namespace   = "ECS/ContainerInsights"
        metric_name = "RunningTaskCount"
        dimensions  = { ClusterName = var.cluster_name, ServiceName = metric_query.value }
        stat        = "Minimum"
        period      = 60
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "${var.name}-db-cpu"
  alarm_description   = "Aurora CPU above 80% for 15 minutes"
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = { DBClusterIdentifier = var.db_cluster_identifier }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = 80
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "db_connections" {
  alarm_name          = "${var.name}-db-connections"
  alarm_description   = "Aurora connections above ${var.max_db_connections}"
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  dimensions          = { DBClusterIdentifier = var.db_cluster_identifier }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.max_db_connections
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "backlog" {
  for_each            = toset(var.task_queues)
  alarm_name          = "${var.name}-backlog-${each.key}"
  alarm_description   = "Temporal task queue ${each.key} has had more than ${var.max_backlog} waiting tasks for 10 minutes"
  namespace           = "Pulse/Temporal"
  metric_name         = "ApproximateBacklogCount"
  dimensions          = { TaskQueue = each.key }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.max_backlog
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching" # no data: the exporter itself is down
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "payment_failures" {
  alarm_name          = "${var.name}-payment-failures"
  alarm_description   = "More than ${var.max_payment_failures} failed payments (checkout + renewal) in 15 minutes"
  threshold           = var.max_payment_failures
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  metric_query {
    id          = "failed"
    expression  = "SUM([checkout, renewal])"
    label       = "failed payments"
    return_data = true
  }
  dynamic "metric_query" {
    for_each = toset(["checkout", "renewal"])
    content {
      id = metric_query.key
      metric {
        namespace   = "Pulse/App"
        metric_name = "pulse_payments_total"
        dimensions  = { kind = metric_query.key, outcome = "failed" }
        stat        = "Sum"
        period      = 900
      }
    }
  }
}
