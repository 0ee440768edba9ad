# Copy these into the GitHub environment named like the env (Settings > Environments > vars).
output "github_environment_variables" {
  description = "Variables deploy.yml reads from the GitHub environment."
  value = {
    AWS_REGION              = var.region
    AWS_DEPLOY_ROLE_ARN     = module.iam.deploy_role_arn
    ECR_REPOSITORY_URL      = module.ecr.repository_url
    ECS_CLUSTER             = module.ecs.cluster_name
    APP_SUBNET_IDS          = join(",", module.network.app_subnet_ids)
    TASKS_SECURITY_GROUP_ID = module.ecs.tasks_security_group_id
    WORKER_GROUPS           = join(" ", module.ecs.worker_groups)
    TEMPORAL_ADDRESS        = module.temporal.address
    TEMPORAL_NAMESPACE      = module.temporal.namespace
    TEMPORAL_TLS            = tostring(module.temporal.tls)
    CDN_DISTRIBUTION_ID     = module.cdn.distribution_id
  }
}

output "ecr_repository_url" {
  description = "Where deploy.yml pushes the image."
  value       = module.ecr.repository_url
}

output "cluster_name" {
  description = "ECS cluster."
  value       = module.ecs.cluster_name
}

output "service_names" {
  description = "Services deploy.yml rolls."
  value       = module.ecs.service_names
}

output "worker_groups" {
  description = "Worker groups release.sh flips (worker-<group>-blue/-green)."
  value       = module.ecs.worker_groups
}

output "migrate_task_family" {
  description = "One-off migration task family."
  value       = module.ecs.migrate_task_family
}

output "app_subnet_ids" {
  description = "Subnets for the migration task."
  value       = module.network.app_subnet_ids
}

output "tasks_security_group_id" {
  description = "Security group for the migration task."
  value       = module.ecs.tasks_security_group_id
}

output "deploy_role_arn" {
  description = "GitHub variable AWS_DEPLOY_ROLE_ARN."
  value       = module.iam.deploy_role_arn
}

output "plan_role_arn" {
  description = "GitHub variable AWS_PLAN_ROLE_ARN."
  value       = module.iam.plan_role_arn
}

output "apply_role_arn" {
  description = "GitHub variable AWS_APPLY_ROLE_ARN."
  value       = module.iam.apply_role_arn
}

output "temporal_address" {
  description = "Temporal frontend the workers use."
  value       = module.temporal.address
}

output "temporal_namespace" {
  description = "Temporal namespace the workers use."
  value       = module.temporal.namespace
}

output "cdn_distribution_id" {
  description = "CloudFront distribution (invalidate /static/* after a deploy)."
  value       = module.cdn.distribution_id
}

output "alarm_topic_arn" {
  description = "SNS topic of all alarms."
  value       = module.observability.alarm_topic_arn
}

output "email_notifications_topic_arn" {
  description = "SNS topic with SES bounces and complaints."
  value       = module.email.notifications_topic_arn
}
