provider "aws" {
  region = var.aws_region

  # Refuse to run an environment's var file against the wrong account.
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = merge(var.tags, {
      Project     = "taxi_duration"
      Environment = var.env
      ManagedBy   = "terraform"
    })
  }
}
