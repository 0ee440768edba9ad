variable "name" {
  description = "Repository name (e.g. pulse-prod)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the images."
  type        = string
}

variable "keep_images" {
  description = "How many images to keep."
  type        = number
  default     = 50
}
