variable "name" {
  description = "Cluster identifier (e.g. pulse-prod)."
  type        = string
}

variable "secret_prefix" {
  description = "Secrets Manager prefix (/<prefix>/PULSE_DATABASE_URL)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Private data subnets (three AZs)."
  type        = list(string)
}

variable "client_security_group_id" {
  description = "Security group of the tasks allowed to connect."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the URL secret."
  type        = string
}

variable "engine_version" {
  description = "Aurora PostgreSQL version."
  type        = string
  default     = "16.6"
}

variable "database_name" {
  description = "The application database."
  type        = string
  default     = "pulse"
}

variable "master_username" {
  description = "Master user (the application connects as it)."
  type        = string
  default     = "pulse"
}

variable "password_version" {
  description = "Bump to rotate the master password (cluster and PULSE_DATABASE_URL together)."
  type        = number
  default     = 1
}

variable "min_acu" {
  description = "Serverless v2 minimum capacity (ACUs)."
  type        = number
  default     = 0.5
}

variable "max_acu" {
  description = "Serverless v2 maximum capacity (ACUs)."
  type        = number
  default     = 8
}

variable "instance_count" {
  description = "Writer + readers (2+ for Multi-AZ failover)."
  type        = number
  default     = 2
}

variable "backup_retention_days" {
  description = "Days of point-in-time recovery."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Refuse deletion and take a final snapshot (prod)."
  type        = bool
  default     = true
}
