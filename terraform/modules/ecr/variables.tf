variable "name_prefix" {
  description = "<env>-taxi-duration: repositories <prefix>-lambda and <prefix>-postgres."
  type        = string
}

variable "kms_key_arn" {
  type = string
}

variable "lambda_function_arn" {
  description = "The function allowed to pull from the Lambda repository."
  type        = string
}

variable "keep_tagged_images" {
  description = "Tagged images kept per repository (older ones expire)."
  type        = number
  default     = 30
}

variable "untagged_expiry_days" {
  type    = number
  default = 7
}
