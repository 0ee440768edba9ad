output "zone_id" {
  description = "The hosted zone id."
  value       = local.zone_id
}

output "regional_certificate_arn" {
  description = "Validated certificate for the ALB."
  value       = aws_acm_certificate_validation.regional.certificate_arn
}

output "cloudfront_certificate_arn" {
  description = "Validated us-east-1 certificate for CloudFront."
  value       = aws_acm_certificate_validation.cloudfront.certificate_arn
}
