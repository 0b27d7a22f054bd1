output "model_bucket" {
  description = "TD_MODEL_BUCKET"
  value       = module.model_bucket.bucket_name
}

output "access_log_bucket" {
  description = "The model bucket's server access logs"
  value       = module.model_bucket.access_log_bucket_name
}

output "trips_stream" {
  description = "TD_TRIPS_STREAM"
  value       = module.streams.trips_stream_name
}

output "predictions_stream" {
  description = "TD_PREDICTIONS_STREAM"
  value       = module.streams.predictions_stream_name
}

output "model_uri" {
  description = "TD_MODEL_URI given to the function"
  value       = local.model_uri
}

output "lambda_function_name" {
  value = var.lambda_function_name
}

output "lambda_dlq_url" {
  description = "Failed Kinesis batches (on-failure destination of the event-source mapping)"
  value       = try(module.lambda[0].dlq_url, null)
}

output "ecr_lambda_repository_url" {
  value = module.ecr.lambda_repository_url
}

output "ecr_postgres_repository_url" {
  value = module.ecr.postgres_repository_url
}

output "ecr_forwarder_repository_url" {
  value = module.ecr.forwarder_repository_url
}

output "alarm_topic_arn" {
  value = module.monitoring.alarm_topic_arn
}

output "postgres_instance_id" {
  description = "aws ssm start-session --target <this> (no SSH, no public IP)"
  value       = module.postgres_host.instance_id
}

output "kms_key_arn" {
  value = module.kms.key_arn
}
