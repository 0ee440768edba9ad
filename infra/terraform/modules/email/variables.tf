variable "name" {
  description = "Configuration set name (PULSE_SES_CONFIGURATION_SET)."
  type        = string
}

variable "domain" {
  description = "The sending domain (no-reply@<domain>)."
  type        = string
}

variable "zone_id" {
  description = "Route53 zone for DKIM, MAIL FROM and DMARC records."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the notifications topic."
  type        = string
}

variable "account_id" {
  description = "This AWS account (SES may publish only from it)."
  type        = string
}

variable "dmarc_report_address" {
  description = "Where DMARC aggregate reports go."
  type        = string
}
