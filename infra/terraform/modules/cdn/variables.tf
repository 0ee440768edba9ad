variable "name" {
  description = "Prefix used in the distribution's comment."
  type        = string
}

variable "domain" {
  description = "The studio's host name, served by CloudFront."
  type        = string
}

variable "origin_domain" {
  description = "The ALB's name (origin.<domain>), covered by its certificate."
  type        = string
}

variable "certificate_arn" {
  description = "Validated ACM certificate in us-east-1."
  type        = string
}

variable "zone_id" {
  description = "Route53 zone for the A/AAAA alias records."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class (PriceClass_200 includes the Middle East edges nearest Jordan)."
  type        = string
  default     = "PriceClass_200"
}
