output "assets_bucket" {
  description = "Assets bucket name (PULSE_S3_BUCKET_ASSETS)."
  value       = aws_s3_bucket.assets.id
}

output "assets_bucket_arn" {
  description = "Assets bucket ARN."
  value       = aws_s3_bucket.assets.arn
}

output "quarantine_bucket" {
  description = "Quarantine bucket name (PULSE_S3_BUCKET_QUARANTINE)."
  value       = aws_s3_bucket.quarantine.id
}

output "quarantine_bucket_arn" {
  description = "Quarantine bucket ARN."
  value       = aws_s3_bucket.quarantine.arn
}

output "logs_bucket" {
  description = "Bucket for ALB and S3 access logs."
  value       = aws_s3_bucket.logs.id
}
