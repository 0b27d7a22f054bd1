variable "name_prefix" {
  description = "<env>-taxi-duration"
  type        = string
}

variable "kms_key_arn" {
  type = string
}

variable "log_retention_days" {
  type = number
}

variable "lambda_function_name" {
  type = string
}

variable "lambda_log_group" {
  description = "Create /aws/lambda/<function> here (false when the SAM stack of template.yaml owns the function and its log group)."
  type        = bool
  default     = true
}

variable "dlq_name" {
  type = string
}

variable "trips_stream_name" {
  type = string
}

variable "postgres_instance_id" {
  type = string
}

variable "alarm_emails" {
  type    = list(string)
  default = []
}

variable "iterator_age_ms" {
  description = "IteratorAge (ms) above which the function is falling behind the trips stream."
  type        = number
  default     = 300000
}
