bucket     = "pulse-terraform-state-123456789012"
key        = "pulse/staging/terraform.tfstate"
region     = "eu-central-1"
kms_key_id = "alias/pulse-terraform-state"
