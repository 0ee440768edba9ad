output "distribution_id" {
  description = "For cache invalidations after a deploy."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "The distribution's ARN (the deploy role may invalidate it)."
  value       = aws_cloudfront_distribution.this.arn
}

output "domain_name" {
  description = "The distribution's *.cloudfront.net name."
  value       = aws_cloudfront_distribution.this.domain_name
}
