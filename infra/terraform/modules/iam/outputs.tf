output "deploy_role_arn" {
  description = "Role for deploy.yml (AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.github["deploy"].arn
}

output "plan_role_arn" {
  description = "Role for terraform plan on pull requests (AWS_PLAN_ROLE_ARN)."
  value       = aws_iam_role.github["plan"].arn
}

output "apply_role_arn" {
  description = "Role for terraform apply on main (AWS_APPLY_ROLE_ARN)."
  value       = aws_iam_role.github["apply"].arn
}

output "execution_role_arn" {
  description = "ECS task execution role."
  value       = aws_iam_role.execution.arn
}

output "task_role_arns" {
  description = "api, worker and exporter task roles."
  value       = { for k, r in aws_iam_role.task : k => r.arn }
}
