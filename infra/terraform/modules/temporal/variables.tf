variable "namespace" {
  description = "Temporal Cloud namespace name (lowercase, 2-39 characters)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,37}[a-z0-9]$", var.namespace))
    error_message = "Namespace names are lowercase letters, digits and hyphens (2-39)."
  }
}

variable "region" {
  description = "Temporal Cloud region (aws-eu-central-1: nearest Jordan with the AWS region)."
  type        = string
  default     = "aws-eu-central-1"
}

variable "retention_days" {
  description = "Days closed workflow histories are kept."
  type        = number
  default     = 30
}

variable "api_key_expiry" {
  description = "Expiry of the workers' API key (RFC 3339); change it to rotate the key."
  type        = string
}

variable "secret_prefix" {
  description = "Secrets Manager prefix (/<prefix>/PULSE_TEMPORAL_API_KEY)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the API key secret."
  type        = string
}

variable "self_hosted_address" {
  description = "host:port of a self-hosted Temporal frontend. Empty (default): use Temporal Cloud."
  type        = string
  default     = ""
}

variable "self_hosted_namespace" {
  description = "Namespace on the self-hosted cluster."
  type        = string
  default     = "default"
}

variable "self_hosted_tls" {
  description = "Connect to the self-hosted frontend over TLS."
  type        = bool
  default     = false
}
