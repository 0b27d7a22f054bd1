variable "name_prefix" {
  description = "<env>-taxi-duration"
  type        = string
}

variable "env" {
  type = string
}

variable "region" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC (its interface endpoints are the only HTTPS destinations besides S3)."
  type        = string
}

variable "subnet_id" {
  description = "Private subnet of the host (no route to the internet)."
  type        = string
}

variable "availability_zone" {
  description = "AZ of subnet_id (the data volume must be in the same AZ)."
  type        = string
}

variable "s3_prefix_list_id" {
  description = "Prefix list of the VPC's S3 gateway endpoint."
  type        = string
}

variable "instance_type" {
  type    = string
  default = "t3.large"
}

variable "root_volume_gb" {
  type    = number
  default = 30
}

variable "data_volume_gb" {
  type    = number
  default = 100
}

variable "kms_key_arn" {
  description = "Key of the EBS volumes and the runtime configuration parameter."
  type        = string
}

variable "postgres_image_uri" {
  description = "docker/postgres/Dockerfile's image (PostgreSQL 15 + taxi_duration + pg_cron), ECR, immutable tag."
  type        = string
}

variable "forwarder_image_uri" {
  description = "docker/forwarder/Dockerfile's image (td-forwarder), ECR, immutable tag."
  type        = string
}

variable "ecr_repository_arns" {
  description = "Repositories the host may pull from (postgres, forwarder)."
  type        = list(string)
}

variable "model_bucket_name" {
  type = string
}

variable "model_bucket_arn" {
  type = string
}

variable "bundle_prefix" {
  type = string
}

variable "model_uri" {
  description = "taxi_duration.model_uri on the host: s3://<bucket>/<model>/<N>/bundle.json."
  type        = string
}

variable "trips_stream_name" {
  type = string
}

variable "trips_stream_arn" {
  type = string
}

variable "predictions_stream" {
  description = "TD_PREDICTIONS_STREAM (informative on the host; the Lambda writes it)."
  type        = string
}

variable "log_group_name" {
  type = string
}

variable "log_group_arn" {
  type = string
}

variable "client_cidrs" {
  description = "CIDRs allowed to reach PostgreSQL on 5432; empty: only SSM port forwarding."
  type        = list(string)
  default     = []
}

variable "snapshot_retain_count" {
  description = "Daily snapshots of the data volume kept by Data Lifecycle Manager."
  type        = number
  default     = 14
}
