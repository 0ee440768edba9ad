variable "name" {
  description = "Replication group id (e.g. pulse-prod)."
  type        = string
}

variable "secret_prefix" {
  description = "Secrets Manager prefix (/<prefix>/PULSE_REDIS_URL)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Private data subnets."
  type        = list(string)
}

variable "client_security_group_id" {
  description = "Security group of the tasks allowed to connect."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for data at rest and the URL secret."
  type        = string
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}

variable "node_type" {
  description = "Node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "replicas" {
  description = "Read replicas (1+ enables Multi-AZ failover)."
  type        = number
  default     = 1
}

variable "snapshot_retention_days" {
  description = "Daily snapshots kept (0 disables)."
  type        = number
  default     = 3
}

variable "auth_token_version" {
  description = "Bump to rotate the AUTH token."
  type        = number
  default     = 1
}
