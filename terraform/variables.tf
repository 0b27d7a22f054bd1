# Root variables.  vars/stg.tfvars and vars/prod.tfvars set each environment's
# names; tests/ops/check_names.py checks that they agree with .env.dev /
# .env.prod, template.yaml and docker-compose.local.yaml.  The validations
# below refuse a stream or function name that breaks the <env>_ convention
# the code and template.yaml rely on, and a bucket name S3 would refuse.
# Bucket names are global across all AWS accounts, so they are variables: the
# var files keep this project's (rll-models-dev, rll-models-prod), and a
# deployment of its own sets its own in a var file.

variable "env" {
  description = "Environment: stream prefix and resource name prefix (stg uses the dev model bucket)."
  type        = string
  validation {
    condition     = contains(["stg", "prod"], var.env)
    error_message = "env must be stg or prod."
  }
}

variable "aws_region" {
  description = "AWS region of every resource (.env.dev / .env.prod: eu-north-1)."
  type        = string
  default     = "eu-north-1"
}

variable "allowed_account_ids" {
  description = "If set, the provider refuses to run against any other AWS account (set per environment)."
  type        = list(string)
  default     = null
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# ---- names (the same in .env.*, template.yaml, compose) ---------------------

variable "model_bucket_name" {
  description = "Bucket of published model bundles (TD_MODEL_BUCKET; vars/*.tfvars: rll-models-dev for stg, rll-models-prod for prod). S3 bucket names are unique across all AWS accounts: a deployment of its own chooses its own."
  type        = string
  # S3's naming rules: 3-63 characters of lowercase letters, digits, dots and
  # hyphens, a letter or digit at each end, no "..", not an IPv4 address, no
  # reserved prefix (xn--, sthree-) or suffix (-s3alias, --ol-s3).
  validation {
    condition = (
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.model_bucket_name)) &&
      !strcontains(var.model_bucket_name, "..") &&
      !can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$", var.model_bucket_name)) &&
      !can(regex("^(xn--|sthree-)|(-s3alias|--ol-s3)$", var.model_bucket_name))
    )
    error_message = "model_bucket_name is not a valid S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, a letter or digit at each end, no '..', not an IP address."
  }
  # The extension and the Lambda reach AWS S3 virtual-host style over TLS
  # (https://<bucket>.s3.<region>.amazonaws.com, lib/aws/tda_s3.c): a dotted
  # name would not match the certificate's wildcard.
  validation {
    condition     = !strcontains(var.model_bucket_name, ".")
    error_message = "model_bucket_name must not contain dots: the bundle loaders reach S3 virtual-host style over TLS, where a dotted bucket name fails certificate validation."
  }
}

variable "access_log_bucket_name" {
  description = "Bucket receiving the model bucket's S3 server access logs; null: <model_bucket_name>-access-logs (rll-models-dev-access-logs, rll-models-prod-access-logs)."
  type        = string
  default     = null
  # The same S3 rules as model_bucket_name (try(): null, the default, passes).
  validation {
    condition = var.access_log_bucket_name == null || try(
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket_name)) &&
      !strcontains(var.access_log_bucket_name, "..") &&
      !can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$", var.access_log_bucket_name)) &&
      !can(regex("^(xn--|sthree-)|(-s3alias|--ol-s3)$", var.access_log_bucket_name)) &&
      var.access_log_bucket_name != var.model_bucket_name,
      false
    )
    error_message = "access_log_bucket_name is not a valid S3 bucket name (3-63 lowercase letters, digits, dots or hyphens, a letter or digit at each end, no '..', not an IP address) or is the model bucket's name."
  }
  # Left null, <model bucket>-access-logs must fit in 63 characters.
  validation {
    condition     = var.access_log_bucket_name != null || length(var.model_bucket_name) <= 51
    error_message = "model_bucket_name is longer than 51 characters, so the default access_log_bucket_name (<model bucket>-access-logs) would exceed 63: set access_log_bucket_name."
  }
}

variable "trips_stream_name" {
  description = "Kinesis stream of trip events: <env>_taxi_trip_events; TD_TRIPS_STREAM."
  type        = string
  validation {
    condition     = var.trips_stream_name == "${var.env}_taxi_trip_events"
    error_message = "trips_stream_name must be <env>_taxi_trip_events (the forwarder's and template.yaml's name)."
  }
}

variable "predictions_stream_name" {
  description = "Kinesis stream of prediction events: <env>_taxi_predictions; TD_PREDICTIONS_STREAM."
  type        = string
  validation {
    condition     = var.predictions_stream_name == "${var.env}_taxi_predictions"
    error_message = "predictions_stream_name must be <env>_taxi_predictions (the Lambda's and template.yaml's name)."
  }
}

variable "lambda_function_name" {
  description = "Name of the stream-scoring function (template.yaml uses the same: <env>-taxi-trip-prediction)."
  type        = string
  validation {
    condition     = var.lambda_function_name == "${var.env}-taxi-trip-prediction"
    error_message = "lambda_function_name must be <env>-taxi-trip-prediction (as in template.yaml)."
  }
}

variable "manage_lambda" {
  description = "Create the function, its role, mapping, DLQ and log group here (true), or leave them to the SAM stack of template.yaml (false; same names, the alarms still apply)."
  type        = bool
  default     = true
}

variable "model_name" {
  description = "Registered model name; bundles are published under s3://<bucket>/<model_name>/<N>/bundle.json (docs/model-lifecycle.md)."
  type        = string
  default     = "taxi-duration"
}

variable "model_version" {
  description = "Registry version N whose bundle the Lambda serves (TD_MODEL_URI=s3://<bucket>/<model_name>/<N>/bundle.json)."
  type        = string
  default     = "1"
  validation {
    condition     = can(regex("^[0-9]+$", var.model_version))
    error_message = "model_version is a registry version number."
  }
}

# ---- sizing and retention -------------------------------------------------

variable "stream_mode" {
  description = "Kinesis capacity mode: PROVISIONED (stream_shard_count shards) or ON_DEMAND."
  type        = string
  default     = "PROVISIONED"
}

variable "stream_shard_count" {
  description = "Shards per stream in PROVISIONED mode."
  type        = number
  default     = 1
}

variable "stream_retention_hours" {
  description = "Kinesis retention (24-8760 h): how long a stopped consumer may fall behind without losing events."
  type        = number
  default     = 24
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for the function, the host and VPC flow logs."
  type        = number
  default     = 30
}

variable "noncurrent_version_expiration_days" {
  description = "Days a superseded object version of the model bucket is kept."
  type        = number
  default     = 90
}

variable "lambda_image_tag" {
  description = "Tag of the Lambda image in the <env>-taxi-duration-lambda repository (tags are immutable: use the git sha)."
  type        = string
  default     = "bootstrap-initial"
}

variable "lambda_memory_mb" {
  type    = number
  default = 256
}

variable "lambda_timeout_s" {
  type    = number
  default = 60
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of the function (one poller per shard is the most the mapping uses)."
  type        = number
  default     = 10
}

variable "batch_size" {
  description = "Kinesis records per invocation (template.yaml BatchSize)."
  type        = number
  default     = 100
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before it goes to the on-failure destination (template.yaml: 5)."
  type        = number
  default     = 5
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "iterator_age_alarm_ms" {
  description = "Alarm when the mapping's IteratorAge exceeds this (ms)."
  type        = number
  default     = 300000
}

# ---- PostgreSQL host -------------------------------------------------------

variable "vpc_cidr" {
  type    = string
  default = "10.42.0.0/16"
}

variable "availability_zones" {
  description = "AZs of the private subnets (the host runs in the first)."
  type        = list(string)
  default     = ["eu-north-1a", "eu-north-1b"]
}

variable "postgres_instance_type" {
  type    = string
  default = "t3.large"
}

variable "postgres_data_volume_gb" {
  type    = number
  default = 100
}

variable "postgres_image_tag" {
  description = "Tag of docker/postgres/Dockerfile's image (PostgreSQL 15 + taxi_duration + pg_cron) in <env>-taxi-duration-postgres."
  type        = string
  default     = "pg15-initial"
}

variable "forwarder_image_tag" {
  description = "Tag of docker/forwarder/Dockerfile's image (td-forwarder) in <env>-taxi-duration-forwarder."
  type        = string
  default     = "forwarder-initial"
}

variable "postgres_client_cidrs" {
  description = "CIDRs allowed to connect to PostgreSQL on 5432 (application subnets); empty: nobody but SSM port forwarding."
  type        = list(string)
  default     = []
}
