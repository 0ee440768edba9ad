output "secret_arns" {
  description = "PULSE_* name => secret ARN, for the ECS task definitions' `secrets`."
  value = merge(
    { for k, s in aws_secretsmanager_secret.operator : k => s.arn },
    { for k, s in aws_secretsmanager_secret.generated : k => s.arn },
  )
}
