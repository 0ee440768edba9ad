# ElastiCache Redis (the chat stream bus and rate limits): TLS in transit, AUTH token,
# encryption at rest, a replica in another AZ with automatic failover.
# The AUTH token is the one secret that is in the state (ElastiCache has no write-only token
# argument); the state bucket is KMS-encrypted and readable only by the Terraform roles.
resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "ElastiCache Redis: 6379 from the Pulse tasks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "tasks" {
  security_group_id            = aws_security_group.this.id
  description                  = "Redis from the Pulse tasks"
  referenced_security_group_id = var.client_security_group_id
  from_port                    = 6379
  to_port                      = 6379
  ip_protocol                  = "tcp"
}

resource "random_password" "auth" {
  length  = 64
  special = false
  keepers = { version = var.auth_token_version }
}

resource "aws_elasticache_replication_group" "this" {
  # checkov:skip=CKV2_AWS_50:failover follows replicas (prod 1: Multi-AZ with automatic failover; staging 0: one node)
  replication_group_id       = var.name
  description                = "Pulse AI Studio stream bus and rate limits"
  engine                     = "redis"
  engine_version             = var.engine_version
  node_type                  = var.node_type
  num_cache_clusters         = var.replicas + 1
  automatic_failover_enabled = var.replicas > 0
  multi_az_enabled           = var.replicas > 0
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.this.id]
  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  auth_token                 = random_password.auth.result
  auth_token_update_strategy = "ROTATE"
  snapshot_retention_limit   = var.snapshot_retention_days
  auto_minor_version_upgrade = true
  apply_immediately          = false
}

resource "aws_secretsmanager_secret" "url" {
  # checkov:skip=CKV2_AWS_57:rotated with auth_token_version (ROTATE strategy keeps the old token valid meanwhile)
  name                    = "/${var.secret_prefix}/PULSE_REDIS_URL"
  description             = "PULSE_REDIS_URL: rediss:// with the AUTH token"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "url" {
  secret_id = aws_secretsmanager_secret.url.id
  secret_string = format(
    "rediss://:%s@%s:6379/0", random_password.auth.result,
    aws_elasticache_replication_group.this.primary_endpoint_address,
  )
}
