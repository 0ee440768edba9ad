variable "name" {
  description = "Prefix of role names (e.g. pulse-prod)."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows may assume the roles."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository is owner/name."
  }
}

variable "github_branch" {
  description = "The branch whose pushes deploy."
  type        = string
  default     = "main"
}

variable "apply_environment" {
  description = "GitHub environment (with required reviewers) whose jobs may run terraform apply."
  type        = string
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (once per account: false in the second env)."
  type        = bool
  default     = true
}

variable "cluster_name" {
  description = "The ECS cluster the deploy role may update."
  type        = string
}

variable "ecr_repository_arn" {
  description = "The repository the deploy role may push to."
  type        = string
}

variable "secret_arns" {
  description = "Every secret the containers read (the execution role injects them)."
  type        = list(string)
}

variable "temporal_api_key_secret_arn" {
  description = "Secret the deploy job reads to set the current worker deployment version."
  type        = string
}

variable "cdn_distribution_arn" {
  description = "CloudFront distribution the deploy job invalidates (/static/*)."
  type        = string
}

variable "kms_key_arn" {
  description = "The environment's KMS key."
  type        = string
}

variable "state_bucket_arn" {
  description = "Terraform state bucket."
  type        = string
}

variable "state_kms_key_arn" {
  description = "KMS key of the state bucket."
  type        = string
}

variable "assets_bucket_arn" {
  description = "Assets bucket."
  type        = string
}

variable "quarantine_bucket_arn" {
  description = "Quarantine bucket."
  type        = string
}

variable "assets_prefixes" {
  description = "Key prefixes the tasks may read and write in the assets bucket (keep in step with the storage code)."
  type        = list(string)
  default     = ["u/*"] # providers/storage: u/<user>/<kind>/<job>/<name>
}

variable "quarantine_prefixes" {
  description = "Key prefixes the tasks may use in the quarantine bucket."
  type        = list(string)
  default     = ["u/*"]
}

variable "ses_identity_arn" {
  description = "The SES identity the tasks may send from."
  type        = string
}

variable "ses_configuration_set_arn" {
  description = "The SES configuration set sends go through."
  type        = string
}
