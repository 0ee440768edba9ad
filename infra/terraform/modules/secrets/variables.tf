variable "name" {
  description = "Prefix of the secret names (/<name>/PULSE_...)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the secrets."
  type        = string
}

variable "operator_secrets" {
  description = "PULSE_* secrets whose values an operator puts (provider keys, HyperPay, payload codec key)."
  type        = list(string)
  default = [
    "PULSE_OPENAI_API_KEY",
    "PULSE_ANTHROPIC_API_KEY",
    "PULSE_GOOGLE_API_KEY",
    "PULSE_HYPERPAY_ACCESS_TOKEN",
    "PULSE_HYPERPAY_WEBHOOK_SECRET",
    "PULSE_PAYLOAD_CODEC_KEY",
  ]
  validation {
    condition     = alltrue([for s in var.operator_secrets : startswith(s, "PULSE_")])
    error_message = "Every secret is a PULSE_* setting."
  }
}

variable "generation_version" {
  description = "Bump to generate new PULSE_SECRET_KEY and PULSE_METRICS_TOKEN values."
  type        = number
  default     = 1
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can be restored."
  type        = number
  default     = 30
}
