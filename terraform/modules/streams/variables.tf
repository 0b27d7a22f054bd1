variable "trips_stream_name" {
  description = "<env>_taxi_trip_events (written by td-forwarder, read by the Lambda)."
  type        = string
}

variable "predictions_stream_name" {
  description = "<env>_taxi_predictions (written by the Lambda)."
  type        = string
}

variable "kms_key_arn" {
  type = string
}

variable "stream_mode" {
  description = "PROVISIONED or ON_DEMAND."
  type        = string
  default     = "PROVISIONED"
  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.stream_mode)
    error_message = "stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "shard_count" {
  description = "Shards per stream in PROVISIONED mode (ignored for ON_DEMAND)."
  type        = number
  default     = 1
}

variable "retention_hours" {
  description = "Retention in hours (24..8760)."
  type        = number
  default     = 24
  validation {
    condition     = var.retention_hours >= 24 && var.retention_hours <= 8760
    error_message = "retention_hours must be within 24..8760."
  }
}
