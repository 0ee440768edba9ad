variable "name" {
  description = "Prefix of every resource name (e.g. pulse-prod)."
  type        = string
}
