variable "name" {
  description = "Prefix of log groups and alarms."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for log groups and the alarm topic."
  type        = string
}

variable "log_groups" {
  description = "One log group per service (/pulse/<name>/<service>)."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Days to keep logs."
  type        = number
  default     = 365
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic."
  type        = list(string)
  default     = []
}

variable "cluster_name" {
  description = "ECS cluster."
  type        = string
}

variable "service_min_tasks" {
  description = "Service => its ECS services (summed) and the fewest running tasks before alarming."
  type = map(object({
    services = list(string)
    min      = number
  }))
}

variable "alb_arn_suffix" {
  description = "ALB (LoadBalancer dimension)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "API target group (TargetGroup dimension)."
  type        = string
}

variable "db_cluster_identifier" {
  description = "Aurora cluster."
  type        = string
}

variable "task_queues" {
  description = "Temporal task queues (with prefix) whose backlog is watched."
  type        = list(string)
}

variable "max_5xx_per_5min" {
  description = "5xx responses tolerated per 5 minutes."
  type        = number
  default     = 10
}

variable "max_db_connections" {
  description = "Connections before alarming (pool size x tasks, with headroom)."
  type        = number
  default     = 400
}

variable "max_backlog" {
  description = "Waiting tasks on one queue before alarming."
  type        = number
  default     = 100
}

variable "max_payment_failures" {
  description = "Failed payments per 15 minutes before alarming."
  type        = number
  default     = 5
}
