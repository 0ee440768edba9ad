environment                 = "staging"
domain                      = "staging.studio.example.jo"
zone_name                   = "example.jo"
github_repository           = "pulse-ai/pulse-ai-studio"
create_github_oidc_provider = false # prod's stack creates the account's provider
state_bucket_arn            = "arn:aws:s3:::pulse-terraform-state-123456789012"
state_kms_key_arn           = "arn:aws:kms:eu-central-1:123456789012:alias/pulse-terraform-state"
temporal_api_key_expiry     = "2027-06-30T00:00:00Z"
dmarc_report_address        = "dmarc@example.jo"
hyperpay_base_url           = "https://eu-test.oppwa.com"
hyperpay_entity_id          = "8ac7a4c90000000000000000visa0001"
single_nat_gateway          = true
protect_data                = false
db_max_acu                  = 2
db_instance_count           = 1
db_backup_retention_days    = 3
redis_node_type             = "cache.t4g.micro"
redis_replicas              = 0
log_retention_days          = 90
temporal_retention_days     = 7
api                         = { cpu = 512, memory = 1024, min = 1, max = 2 }
worker_groups = {
  interactive = { queues = ["interactive", "streams"], cpu = 512, memory = 1024, min = 1, max = 2 }
  background  = { queues = ["background"], cpu = 256, memory = 512, min = 1, max = 1, scrape_metrics = true }
  documents   = { queues = ["documents"], cpu = 512, memory = 2048, min = 1, max = 2, backlog_per_task = 5 }
  media       = { queues = ["media"], cpu = 256, memory = 512, min = 1, max = 2, backlog_per_task = 10 }
}
