bucket     = "pulse-terraform-state-123456789012"
key        = "pulse/prod/terraform.tfstate"
region     = "eu-central-1"
kms_key_id = "alias/pulse-terraform-state"
