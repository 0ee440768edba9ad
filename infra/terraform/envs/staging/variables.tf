variable "environment" {
  description = "staging or prod."
  type        = string
  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment is staging or prod."
  }
}

variable "region" {
  description = "AWS region (eu-central-1: the nearest full region to Jordan with Temporal Cloud)."
  type        = string
  default     = "eu-central-1"
}

variable "domain" {
  description = "The studio's host name (studio.example.jo)."
  type        = string
}

variable "zone_name" {
  description = "Existing Route53 hosted zone that holds the domain."
  type        = string
}

variable "github_repository" {
  description = "owner/name of this repository (OIDC trust)."
  type        = string
}

variable "create_github_oidc_provider" {
  description = "Create the GitHub OIDC provider (once per AWS account)."
  type        = bool
  default     = true
}

variable "state_bucket_arn" {
  description = "Terraform state bucket (bootstrap output)."
  type        = string
}

variable "state_kms_key_arn" {
  description = "Terraform state KMS key (bootstrap output)."
  type        = string
}

variable "image_tag" {
  description = "Image tag Terraform starts services with (deploy.yml rolls newer ones)."
  type        = string
  default     = "bootstrap"
}

variable "vpc_cidr" {
  description = "The VPC's /16."
  type        = string
  default     = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway (staging) instead of one per AZ."
  type        = bool
  default     = false
}

variable "protect_data" {
  description = "Deletion protection on the database, ALB and buckets (prod)."
  type        = bool
  default     = true
}

variable "db_min_acu" {
  description = "Aurora Serverless v2 minimum ACUs."
  type        = number
  default     = 0.5
}

variable "db_max_acu" {
  description = "Aurora Serverless v2 maximum ACUs."
  type        = number
  default     = 8
}

variable "db_instance_count" {
  description = "Aurora writer + readers."
  type        = number
  default     = 2
}

variable "db_backup_retention_days" {
  description = "Point-in-time recovery window."
  type        = number
  default     = 14
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "redis_replicas" {
  description = "ElastiCache replicas."
  type        = number
  default     = 1
}

variable "temporal_cloud_region" {
  description = "Temporal Cloud region of the namespace."
  type        = string
  default     = "aws-eu-central-1"
}

variable "temporal_retention_days" {
  description = "Temporal history retention."
  type        = number
  default     = 30
}

variable "temporal_api_key_expiry" {
  description = "Expiry of the workers' Temporal Cloud API key (RFC 3339)."
  type        = string
}

variable "temporal_self_hosted_address" {
  description = "host:port of a self-hosted Temporal instead of Temporal Cloud (empty: Cloud)."
  type        = string
  default     = ""
}

variable "task_queue_prefix" {
  description = "PULSE_TEMPORAL_TASK_QUEUE_PREFIX (lets environments share a namespace)."
  type        = string
  default     = ""
}

variable "email_from_name" {
  description = "Display name of outgoing email."
  type        = string
  default     = "Pulse AI Studio"
}

variable "dmarc_report_address" {
  description = "Where DMARC reports go."
  type        = string
}

variable "hyperpay_base_url" {
  description = "HyperPay API (eu-test.oppwa.com for staging, eu-prod.oppwa.com for prod)."
  type        = string
}

variable "hyperpay_entity_id" {
  description = "HyperPay entity for VISA/MASTER."
  type        = string
}

variable "hyperpay_entity_id_mada" {
  description = "HyperPay entity for MADA (empty disables it)."
  type        = string
  default     = ""
}

variable "log_retention_days" {
  description = "Days to keep service logs."
  type        = number
  default     = 365
}

variable "alarm_emails" {
  description = "Who receives alarms."
  type        = list(string)
  default     = []
}

variable "api" {
  description = "API sizing and scaling (see modules/ecs)."
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
  description = "Worker services and the queues they poll (see modules/ecs)."
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
