# taxi_duration — one root module, one state per environment:
#   terraform -chdir=terraform plan -var-file=vars/stg.tfvars
# The model bucket, the two streams, the ECR repositories, the stream-scoring
# Lambda, its monitoring and the PostgreSQL host (EC2: RDS/Aurora do not accept
# the custom C extension) — README.md has the module map.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix = "${var.env}-taxi-duration"

  # Where bundles are published (docs/model-lifecycle.md, "Publishing contract"):
  #   s3://<bucket>/<model name>/<N>/bundle.json
  bundle_prefix = "${var.model_name}/"
  model_uri     = "s3://${var.model_bucket_name}/${var.model_name}/${var.model_version}/bundle.json"

  dlq_name = "${var.lambda_function_name}-dlq"
}

module "kms" {
  source = "./modules/kms"

  alias_name = "alias/${local.name_prefix}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = var.aws_region
}

module "model_bucket" {
  source = "./modules/model_bucket"

  bucket_name                        = var.model_bucket_name
  access_log_bucket_name             = var.access_log_bucket_name
  kms_key_arn                        = module.kms.key_arn
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
}

module "streams" {
  source = "./modules/streams"

  trips_stream_name       = var.trips_stream_name
  predictions_stream_name = var.predictions_stream_name
  kms_key_arn             = module.kms.key_arn
  stream_mode             = var.stream_mode
  shard_count             = var.stream_shard_count
  retention_hours         = var.stream_retention_hours
}

module "ecr" {
  source = "./modules/ecr"

  name_prefix = local.name_prefix
  kms_key_arn = module.kms.key_arn
  # The function may pull from the Lambda repository (same account).
  lambda_function_arn = "arn:${data.aws_partition.current.partition}:lambda:${var.aws_region}:${data.aws_caller_identity.current.account_id}:function:${var.lambda_function_name}"
}

module "monitoring" {
  source = "./modules/monitoring"

  name_prefix          = local.name_prefix
  kms_key_arn          = module.kms.key_arn
  log_retention_days   = var.log_retention_days
  lambda_function_name = var.lambda_function_name
  lambda_log_group     = var.manage_lambda
  dlq_name             = local.dlq_name
  trips_stream_name    = var.trips_stream_name
  postgres_instance_id = module.postgres_host.instance_id
  alarm_emails         = var.alarm_emails
  iterator_age_ms      = var.iterator_age_alarm_ms
}

module "lambda" {
  source = "./modules/lambda"
  count  = var.manage_lambda ? 1 : 0

  function_name          = var.lambda_function_name
  image_uri              = "${module.ecr.lambda_repository_url}:${var.lambda_image_tag}"
  memory_mb              = var.lambda_memory_mb
  timeout_s              = var.lambda_timeout_s
  reserved_concurrency   = var.lambda_reserved_concurrency
  kms_key_arn            = module.kms.key_arn
  trips_stream_arn       = module.streams.trips_stream_arn
  predictions_stream_arn = module.streams.predictions_stream_arn
  predictions_stream     = var.predictions_stream_name
  model_bucket_arn       = module.model_bucket.bucket_arn
  bundle_prefix          = local.bundle_prefix
  model_uri              = local.model_uri
  log_group_arn          = module.monitoring.lambda_log_group_arn
  dlq_name               = local.dlq_name
  batch_size             = var.batch_size
  maximum_retry_attempts = var.maximum_retry_attempts
}

module "network" {
  source = "./modules/network"

  name_prefix        = local.name_prefix
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  region             = var.aws_region
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
}

module "postgres_host" {
  source = "./modules/postgres_host"

  name_prefix         = local.name_prefix
  env                 = var.env
  region              = var.aws_region
  vpc_id              = module.network.vpc_id
  vpc_cidr            = var.vpc_cidr
  subnet_id           = module.network.private_subnet_ids[0]
  availability_zone   = var.availability_zones[0]
  s3_prefix_list_id   = module.network.s3_prefix_list_id
  instance_type       = var.postgres_instance_type
  data_volume_gb      = var.postgres_data_volume_gb
  kms_key_arn         = module.kms.key_arn
  postgres_image_uri  = "${module.ecr.postgres_repository_url}:${var.postgres_image_tag}"
  forwarder_image_uri = "${module.ecr.forwarder_repository_url}:${var.forwarder_image_tag}"
  ecr_repository_arns = [module.ecr.postgres_repository_arn, module.ecr.forwarder_repository_arn]
  model_bucket_name   = var.model_bucket_name
  model_bucket_arn    = module.model_bucket.bucket_arn
  bundle_prefix       = local.bundle_prefix
  model_uri           = local.model_uri
  trips_stream_name   = var.trips_stream_name
  trips_stream_arn    = module.streams.trips_stream_arn
  predictions_stream  = var.predictions_stream_name
  log_group_name      = module.monitoring.postgres_log_group_name
  log_group_arn       = module.monitoring.postgres_log_group_arn
  client_cidrs        = var.postgres_client_cidrs
}
