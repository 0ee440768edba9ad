variable "zone_name" {
  description = "The hosted zone (example.jo)."
  type        = string
}

variable "domain" {
  description = "The studio's host name (studio.example.jo); origin.<domain> points at the ALB."
  type        = string
}

variable "create_zone" {
  description = "Create the zone (true) or use an existing one of that name (false)."
  type        = bool
  default     = false
}
