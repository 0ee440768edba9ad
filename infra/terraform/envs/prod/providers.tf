terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
    temporalcloud = {
      source  = "temporalio/temporalcloud"
      version = "~> 1.0"
    }
  }
  # Remote state in S3 with S3-native locking (a .tflock object); bucket, key and KMS key in
  # backend.hcl: terraform init -backend-config=backend.hcl
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "pulse-ai-studio", Environment = var.environment, ManagedBy = "terraform" }
  }
}

# CloudFront's certificate must live in us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
  default_tags {
    tags = { Project = "pulse-ai-studio", Environment = var.environment, ManagedBy = "terraform" }
  }
}

# Reads TEMPORAL_CLOUD_API_KEY from the environment (a GitHub environment secret in CI).
provider "temporalcloud" {}
