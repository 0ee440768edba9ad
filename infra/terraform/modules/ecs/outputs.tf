output "cluster_name" {
  description = "The cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_names" {
  description = "API and worker services (worker-<group>-blue/-green)."
  value       = concat([aws_ecs_service.api.name], [for s in aws_ecs_service.worker : s.name])
}

output "worker_groups" {
  description = "Worker group names (release.sh flips worker-<group>-blue/-green)."
  value       = keys(var.worker_groups)
}

output "tasks_security_group_id" {
  description = "Security group of the Pulse tasks (database and cache accept it)."
  value       = aws_security_group.tasks.id
}

output "clamd_address" {
  description = "PULSE_CLAMD_ADDRESS inside the VPC."
  value       = "clamd.${aws_service_discovery_private_dns_namespace.this.name}:3310"
}

output "migrate_task_family" {
  description = "Task definition family deploy.yml runs for migrations."
  value       = aws_ecs_task_definition.migrate.family
}
