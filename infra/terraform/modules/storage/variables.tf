variable "name" {
  description = "Prefix of the bucket names (globally unique: include the account or a suffix)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for assets and quarantine objects."
  type        = string
}

variable "web_origins" {
  description = "Origins allowed to upload with presigned POST and read presigned URLs (https://studio.example.jo)."
  type        = list(string)
}

variable "quarantine_expire_days" {
  description = "Unscanned uploads left in quarantine are deleted after this many days."
  type        = number
  default     = 2
}

variable "assets_noncurrent_days" {
  description = "Days to keep overwritten or deleted asset versions."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Days to keep S3 and ALB access logs."
  type        = number
  default     = 365
}

variable "protect" {
  description = "Refuse to destroy non-empty buckets (prod)."
  type        = bool
  default     = true
}
