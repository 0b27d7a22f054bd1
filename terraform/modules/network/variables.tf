variable "name_prefix" {
  type = string
}

variable "cidr_block" {
  type = string
}

variable "availability_zones" {
  description = "One private subnet per AZ; the interface endpoints (and the host) use the first."
  type        = list(string)
}

variable "region" {
  type = string
}

variable "kms_key_arn" {
  description = "Key of the flow-log group."
  type        = string
}

variable "log_retention_days" {
  type = number
}

variable "interface_endpoints" {
  description = "AWS services reached through interface endpoints (no NAT gateway, no internet gateway)."
  type        = list(string)
  default     = ["ssm", "ssmmessages", "ec2messages", "ecr.api", "ecr.dkr", "logs", "kinesis-streams", "sts"]
}
