# Temporal Cloud: the namespace (API-key auth, retention), the project's search attributes,
# a service account with write access to it and its API key in PULSE_TEMPORAL_API_KEY.
# With self_hosted_address set, nothing is created in Temporal Cloud: the tasks connect to that
# address (a self-hosted cluster, e.g. the compose file's shape on EC2/EKS) without TLS/API key
# unless self_hosted_tls is true.
locals {
  cloud = var.self_hosted_address == ""
  # workflows/__init__.py SEARCH_ATTRIBUTES (tests/deploy checks this list stays in step)
  search_attributes = ["PulseUserId", "PulseJobKind", "PulseProvider", "PulseModel", "PulseJobStatus"]
}

resource "temporalcloud_namespace" "this" {
  count          = local.cloud ? 1 : 0
  name           = var.namespace
  regions        = [var.region]
  api_key_auth   = true
  retention_days = var.retention_days
}

resource "temporalcloud_namespace_search_attribute" "this" {
  for_each     = local.cloud ? toset(local.search_attributes) : toset([])
  namespace_id = temporalcloud_namespace.this[0].id
  name         = each.key
  type         = "keyword"
}

resource "temporalcloud_service_account" "workers" {
  count          = local.cloud ? 1 : 0
  name           = "${var.namespace}-workers"
  account_access = "read"
  namespace_accesses = [{
    namespace_id = temporalcloud_namespace.this[0].id
    permission   = "write"
  }]
}

resource "temporalcloud_apikey" "workers" {
  count        = local.cloud ? 1 : 0
  display_name = "${var.namespace}-workers"
  owner_type   = "service-account"
  owner_id     = temporalcloud_service_account.workers[0].id
  expiry_time  = var.api_key_expiry
}

resource "aws_secretsmanager_secret" "api_key" {
  # checkov:skip=CKV2_AWS_57:rotated by changing api_key_expiry (a new key, then a rolling deploy)
  name                    = "/${var.secret_prefix}/PULSE_TEMPORAL_API_KEY"
  description             = "PULSE_TEMPORAL_API_KEY: the workers' Temporal Cloud API key"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
}

# The key's token is in the state (the provider returns it once, at creation); the version
# below is written from it so the containers never see Terraform.
resource "aws_secretsmanager_secret_version" "api_key" {
  count         = local.cloud ? 1 : 0
  secret_id     = aws_secretsmanager_secret.api_key.id
  secret_string = temporalcloud_apikey.workers[0].token
}
