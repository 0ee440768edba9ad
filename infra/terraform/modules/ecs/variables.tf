variable "cluster_name" {
  description = "ECS cluster name (e.g. pulse-prod); also the prefix of task families."
  type        = string
}

variable "image" {
  description = "Initial image (<repo>:<sha>); deploy.yml registers newer revisions."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "vpc_cidr" {
  description = "The VPC's range (egress to PostgreSQL, Redis, clamd)."
  type        = string
}

variable "subnet_ids" {
  description = "Private app subnets."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "The ALB's security group (API ingress)."
  type        = string
}

variable "target_group_arn" {
  description = "API target group."
  type        = string
}

variable "alb_arn_suffix" {
  description = "For ALBRequestCountPerTarget."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "For ALBRequestCountPerTarget."
  type        = string
}

variable "execution_role_arn" {
  description = "Task execution role (pull, logs, secrets)."
  type        = string
}

variable "task_role_arns" {
  description = "Task roles: api, worker, exporter."
  type        = map(string)
}

variable "environment" {
  description = "Non-secret PULSE_* settings for every container."
  type        = map(string)
}

variable "secret_arns" {
  description = "PULSE_* name => Secrets Manager ARN, injected into every container."
  type        = map(string)
}

variable "log_group_names" {
  description = "Log group per service: api, worker-<group>, clamd, exporter, migrate."
  type        = map(string)
}

variable "temporal_task_queue_prefix" {
  description = "PULSE_TEMPORAL_TASK_QUEUE_PREFIX (the backlog metric's TaskQueue dimension includes it)."
  type        = string
  default     = ""
}

variable "api" {
  description = "API sizing and scaling."
  type = object({
    cpu                 = number
    memory              = number
    min                 = number
    max                 = number
    cpu_target          = optional(number, 60)
    requests_per_target = optional(number, 600)
  })
  default = { cpu = 1024, memory = 2048, min = 2, max = 10 }
}

variable "worker_groups" {
  description = "Worker services: which queues each polls, sizing, scaling on backlog per task."
  type = map(object({
    queues           = list(string)
    cpu              = number
    memory           = number
    min              = number
    max              = number
    backlog_per_task = optional(number, 20)
    scrape_metrics   = optional(bool, false)
  }))
  default = {
    interactive = { queues = ["interactive", "streams"], cpu = 1024, memory = 2048, min = 2, max = 20 }
    background  = { queues = ["background"], cpu = 512, memory = 1024, min = 1, max = 4, scrape_metrics = true }
    documents   = { queues = ["documents"], cpu = 1024, memory = 3072, min = 1, max = 8, backlog_per_task = 5 }
    media       = { queues = ["media"], cpu = 512, memory = 1024, min = 1, max = 8, backlog_per_task = 10 }
  }
}

variable "clamd_image" {
  description = "clamd image (mirror it into ECR for production)."
  type        = string
  default     = "clamav/clamav:1.4.3"
}

variable "clamd_count" {
  description = "clamd tasks."
  type        = number
  default     = 2
}

variable "cloudwatch_agent_image" {
  description = "CloudWatch agent image for the metrics scrape sidecar."
  type        = string
  default     = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300060.0b1248"
}
