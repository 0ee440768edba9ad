output "primary_endpoint" {
  description = "Primary endpoint address."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "replication_group_id" {
  description = "For CloudWatch alarms."
  value       = aws_elasticache_replication_group.this.id
}

output "redis_url_secret_arn" {
  description = "ARN of the PULSE_REDIS_URL secret."
  value       = aws_secretsmanager_secret.url.arn
}
