# Production.  The names agree with .env.prod and template.yaml
# (tests/ops/check_names.py compares them).  Bucket names are global across
# AWS: a deployment of its own sets its own model_bucket_name here, in
# .env.prod (TD_MODEL_BUCKET) and in template.yaml's EnvMap.
env        = "prod"
aws_region = "eu-north-1"

model_bucket_name = "rll-models-prod"
# access_log_bucket_name = "rll-models-prod-access-logs"  # the default: <model_bucket_name>-access-logs
trips_stream_name       = "prod_taxi_trip_events"
predictions_stream_name = "prod_taxi_predictions"
lambda_function_name    = "prod-taxi-trip-prediction"

model_name    = "taxi-duration"
model_version = "1"

stream_mode            = "ON_DEMAND"
stream_shard_count     = 1
stream_retention_hours = 168
log_retention_days     = 400

noncurrent_version_expiration_days = 365

lambda_reserved_concurrency = 20
batch_size                  = 100
maximum_retry_attempts      = 5
iterator_age_alarm_ms       = 300000

postgres_instance_type  = "m6i.large"
postgres_data_volume_gb = 200
vpc_cidr                = "10.43.0.0/16"

# allowed_account_ids = ["222222222222"]   # the production account
# alarm_emails        = ["oncall@example.com"]
