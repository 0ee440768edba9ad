output "address" {
  description = "PULSE_TEMPORAL_ADDRESS."
  value       = local.cloud ? temporalcloud_namespace.this[0].endpoints.grpc_address : var.self_hosted_address
}

output "namespace" {
  description = "PULSE_TEMPORAL_NAMESPACE (the Cloud namespace id <name>.<account>)."
  value       = local.cloud ? temporalcloud_namespace.this[0].id : var.self_hosted_namespace
}

output "tls" {
  description = "PULSE_TEMPORAL_TLS."
  value       = local.cloud ? true : var.self_hosted_tls
}

output "api_key_secret_arn" {
  description = "ARN of the PULSE_TEMPORAL_API_KEY secret (empty value when self-hosted)."
  value       = aws_secretsmanager_secret.api_key.arn
}

output "uses_api_key" {
  description = "Whether the tasks get PULSE_TEMPORAL_API_KEY."
  value       = local.cloud
}
