variable "bucket_name" {
  description = "Model bundle bucket (the root's model_bucket_name)."
  type        = string
}

variable "access_log_bucket_name" {
  description = "Bucket of the model bucket's server access logs; null: <bucket_name>-access-logs."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer-managed key for SSE-KMS of the bundles."
  type        = string
}

variable "noncurrent_version_expiration_days" {
  description = "Days a superseded bundle version is kept (rollback reads the current version of older keys, never noncurrent versions)."
  type        = number
  default     = 90
}

variable "access_log_retention_days" {
  type    = number
  default = 365
}
