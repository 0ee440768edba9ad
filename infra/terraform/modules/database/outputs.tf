output "cluster_identifier" {
  description = "For CloudWatch alarms (DBClusterIdentifier)."
  value       = aws_rds_cluster.this.cluster_identifier
}

output "endpoint" {
  description = "Writer endpoint."
  value       = aws_rds_cluster.this.endpoint
}

output "security_group_id" {
  description = "The cluster's security group."
  value       = aws_security_group.this.id
}

output "database_url_secret_arn" {
  description = "ARN of the PULSE_DATABASE_URL secret."
  value       = aws_secretsmanager_secret.url.arn
}
