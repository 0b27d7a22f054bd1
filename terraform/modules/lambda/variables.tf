variable "function_name" {
  description = "<env>-taxi-trip-prediction (template.yaml's FunctionName)."
  type        = string
}

variable "image_uri" {
  description = "<account>.dkr.ecr.<region>.amazonaws.com/<env>-taxi-duration-lambda:<tag>"
  type        = string
}

variable "memory_mb" {
  type    = number
  default = 256
}

variable "timeout_s" {
  type    = number
  default = 60
}

variable "reserved_concurrency" {
  type    = number
  default = 10
}

variable "kms_key_arn" {
  description = "Key of the streams, the bundle bucket, the DLQ and the function's environment."
  type        = string
}

variable "trips_stream_arn" {
  type = string
}

variable "predictions_stream_arn" {
  type = string
}

variable "predictions_stream" {
  description = "PREDICTIONS_STREAM: <env>_taxi_predictions."
  type        = string
}

variable "model_bucket_arn" {
  type = string
}

variable "bundle_prefix" {
  description = "Key prefix of published bundles (\"taxi-duration/\"); the only part of the bucket the function may read."
  type        = string
}

variable "model_uri" {
  description = "TD_MODEL_URI: s3://<bucket>/<bundle_prefix><N>/bundle.json"
  type        = string
}

variable "log_group_arn" {
  description = "/aws/lambda/<function_name>, created (with retention and KMS) by modules/monitoring."
  type        = string
}

variable "dlq_name" {
  description = "SQS queue receiving the metadata of batches that exhausted their retries."
  type        = string
}

variable "batch_size" {
  type    = number
  default = 100
}

variable "maximum_retry_attempts" {
  type    = number
  default = 5
}

variable "maximum_record_age_s" {
  description = "Records older than this go to the on-failure destination instead of being retried (-1: up to the stream's retention)."
  type        = number
  default     = -1
}
