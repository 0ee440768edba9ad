variable "name" {
  description = "Prefix of resource names (at most 26 characters: target group names are 32)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "vpc_cidr" {
  description = "The VPC's range (egress to the tasks)."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets in three AZs."
  type        = list(string)
}

variable "certificate_arn" {
  description = "Validated ACM certificate for the domain and origin.<domain>."
  type        = string
}

variable "logs_bucket" {
  description = "Bucket for access logs (prefix alb/)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the WAF log group."
  type        = string
}

variable "zone_id" {
  description = "Route53 zone for origin.<domain>."
  type        = string
}

variable "domain" {
  description = "The studio's host name."
  type        = string
}

variable "idle_timeout_seconds" {
  description = "Idle timeout; long enough for a chat stream's quiet moments (SSE)."
  type        = number
  default     = 900
}

variable "log_retention_days" {
  description = "Days to keep WAF logs."
  type        = number
  default     = 365
}
