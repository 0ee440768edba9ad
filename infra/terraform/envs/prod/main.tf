# One environment of Pulse AI Studio on AWS + Temporal Cloud. envs/staging/main.tf is this
# same file (tests/deploy checks they are identical); the environments differ only in
# terraform.tfvars and backend.hcl.
locals {
  name        = "pulse-${var.environment}"
  queues      = distinct(flatten([for g in var.worker_groups : g.queues]))
  queue_names = [for q in local.queues : "${var.task_queue_prefix}${q}"]
  services    = concat(["api"], [for g in keys(var.worker_groups) : "worker-${g}"])
  log_groups  = concat(local.services, ["clamd", "exporter", "migrate"])
  web_origin  = "https://${var.domain}"

  # Non-secret settings, the same in every container (core/settings.py).
  environment = {
    PULSE_ENV                        = "prod"
    PULSE_PUBLIC_URL                 = local.web_origin
    PULSE_LOG_JSON                   = "true"
    PULSE_TEMPORAL_ADDRESS           = module.temporal.address
    PULSE_TEMPORAL_NAMESPACE         = module.temporal.namespace
    PULSE_TEMPORAL_TLS               = tostring(module.temporal.tls)
    PULSE_TEMPORAL_TASK_QUEUE_PREFIX = var.task_queue_prefix
    PULSE_EMAIL_BACKEND              = "ses"
    PULSE_EMAIL_FROM                 = "${var.email_from_name} <no-reply@${var.domain}>"
    PULSE_SES_REGION                 = var.region
    PULSE_SES_CONFIGURATION_SET      = module.email.configuration_set_name
    PULSE_HYPERPAY_BASE_URL          = var.hyperpay_base_url
    PULSE_HYPERPAY_ENTITY_ID         = var.hyperpay_entity_id
    PULSE_HYPERPAY_ENTITY_ID_MADA    = var.hyperpay_entity_id_mada
    # Storage (the storage branch's settings; keep the names in step with core/settings.py)
    PULSE_STORAGE_BACKEND      = "s3"
    PULSE_S3_REGION            = var.region
    PULSE_S3_BUCKET_ASSETS     = module.storage.assets_bucket
    PULSE_S3_BUCKET_QUARANTINE = module.storage.quarantine_bucket
    PULSE_S3_SSE               = "aws:kms"
    PULSE_S3_KMS_KEY_ID        = module.kms.key_arn
    PULSE_CLAMD_ADDRESS        = module.ecs.clamd_address
  }

  secret_arns = merge(
    module.secrets.secret_arns,
    {
      PULSE_DATABASE_URL = module.database.database_url_secret_arn
      PULSE_REDIS_URL    = module.cache.redis_url_secret_arn
    },
    module.temporal.uses_api_key ? { PULSE_TEMPORAL_API_KEY = module.temporal.api_key_secret_arn } : {},
  )
}

data "aws_caller_identity" "this" {}

module "kms" {
  source = "../../modules/kms"
  name   = local.name
}

module "network" {
  source             = "../../modules/network"
  name               = local.name
  cidr               = var.vpc_cidr
  az_count           = 3
  single_nat_gateway = var.single_nat_gateway
  kms_key_arn        = module.kms.key_arn
}

module "ecr" {
  source      = "../../modules/ecr"
  name        = local.name
  kms_key_arn = module.kms.key_arn
}

module "secrets" {
  source      = "../../modules/secrets"
  name        = local.name
  kms_key_arn = module.kms.key_arn
}

module "storage" {
  source      = "../../modules/storage"
  name        = "${local.name}-${data.aws_caller_identity.this.account_id}"
  kms_key_arn = module.kms.key_arn
  web_origins = [local.web_origin]
  protect     = var.protect_data
}

module "dns" {
  source    = "../../modules/dns"
  zone_name = var.zone_name
  domain    = var.domain
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }
}

module "database" {
  source                   = "../../modules/database"
  name                     = local.name
  secret_prefix            = local.name
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.data_subnet_ids
  client_security_group_id = module.ecs.tasks_security_group_id
  kms_key_arn              = module.kms.key_arn
  min_acu                  = var.db_min_acu
  max_acu                  = var.db_max_acu
  instance_count           = var.db_instance_count
  backup_retention_days    = var.db_backup_retention_days
  deletion_protection      = var.protect_data
}

module "cache" {
  source                   = "../../modules/cache"
  name                     = local.name
  secret_prefix            = local.name
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.data_subnet_ids
  client_security_group_id = module.ecs.tasks_security_group_id
  kms_key_arn              = module.kms.key_arn
  node_type                = var.redis_node_type
  replicas                 = var.redis_replicas
}

module "temporal" {
  source              = "../../modules/temporal"
  namespace           = local.name
  region              = var.temporal_cloud_region
  retention_days      = var.temporal_retention_days
  api_key_expiry      = var.temporal_api_key_expiry
  secret_prefix       = local.name
  kms_key_arn         = module.kms.key_arn
  self_hosted_address = var.temporal_self_hosted_address
}

module "email" {
  source               = "../../modules/email"
  name                 = local.name
  domain               = var.domain
  zone_id              = module.dns.zone_id
  kms_key_arn          = module.kms.key_arn
  account_id           = data.aws_caller_identity.this.account_id
  dmarc_report_address = var.dmarc_report_address
}

module "alb" {
  source            = "../../modules/alb"
  name              = local.name
  vpc_id            = module.network.vpc_id
  vpc_cidr          = module.network.vpc_cidr
  public_subnet_ids = module.network.public_subnet_ids
  certificate_arn   = module.dns.regional_certificate_arn
  logs_bucket       = module.storage.logs_bucket
  kms_key_arn       = module.kms.key_arn
  zone_id           = module.dns.zone_id
  domain            = var.domain
}

module "cdn" {
  source          = "../../modules/cdn"
  name            = local.name
  domain          = var.domain
  origin_domain   = module.alb.origin_domain
  certificate_arn = module.dns.cloudfront_certificate_arn
  zone_id         = module.dns.zone_id
}

module "iam" {
  source                      = "../../modules/iam"
  name                        = local.name
  github_repository           = var.github_repository
  github_branch               = "main"
  apply_environment           = "infra-${var.environment}"
  create_github_oidc_provider = var.create_github_oidc_provider
  cluster_name                = local.name
  ecr_repository_arn          = module.ecr.repository_arn
  secret_arns                 = values(local.secret_arns)
  temporal_api_key_secret_arn = module.temporal.api_key_secret_arn
  cdn_distribution_arn        = module.cdn.distribution_arn
  kms_key_arn                 = module.kms.key_arn
  state_bucket_arn            = var.state_bucket_arn
  state_kms_key_arn           = var.state_kms_key_arn
  assets_bucket_arn           = module.storage.assets_bucket_arn
  quarantine_bucket_arn       = module.storage.quarantine_bucket_arn
  ses_identity_arn            = module.email.identity_arn
  ses_configuration_set_arn   = module.email.configuration_set_arn
}

module "observability" {
  source                  = "../../modules/observability"
  name                    = local.name
  kms_key_arn             = module.kms.key_arn
  log_groups              = local.log_groups
  log_retention_days      = var.log_retention_days
  alarm_emails            = var.alarm_emails
  cluster_name            = local.name
  service_min_tasks = merge(
    { api = { services = ["api"], min = var.api.min } },
    { for g, w in var.worker_groups : "worker-${g}" => { services = ["worker-${g}-blue", "worker-${g}-green"], min = w.min } },
  )
  alb_arn_suffix          = module.alb.arn_suffix
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  db_cluster_identifier   = module.database.cluster_identifier
  task_queues             = local.queue_names
}

module "ecs" {
  source                     = "../../modules/ecs"
  cluster_name               = local.name
  image                      = "${module.ecr.repository_url}:${var.image_tag}"
  vpc_id                     = module.network.vpc_id
  vpc_cidr                   = module.network.vpc_cidr
  subnet_ids                 = module.network.app_subnet_ids
  alb_security_group_id      = module.alb.security_group_id
  target_group_arn           = module.alb.target_group_arn
  alb_arn_suffix             = module.alb.arn_suffix
  target_group_arn_suffix    = module.alb.target_group_arn_suffix
  execution_role_arn         = module.iam.execution_role_arn
  task_role_arns             = module.iam.task_role_arns
  environment                = local.environment
  secret_arns                = local.secret_arns
  log_group_names            = module.observability.log_group_names
  temporal_task_queue_prefix = var.task_queue_prefix
  api                        = var.api
  worker_groups              = var.worker_groups
}
