# Staging (stg streams, dev bucket).  The names agree with .env.dev and
# template.yaml (tests/ops/check_names.py compares them).  Bucket names are
# global across AWS: a deployment of its own sets its own model_bucket_name
# here, in .env.dev (TD_MODEL_BUCKET) and in template.yaml's EnvMap.
env        = "stg"
aws_region = "eu-north-1"

model_bucket_name = "rll-models-dev"
# access_log_bucket_name = "rll-models-dev-access-logs"   # the default: <model_bucket_name>-access-logs
trips_stream_name       = "stg_taxi_trip_events"
predictions_stream_name = "stg_taxi_predictions"
lambda_function_name    = "stg-taxi-trip-prediction"

model_name    = "taxi-duration"
model_version = "1"

stream_mode            = "PROVISIONED"
stream_shard_count     = 1
stream_retention_hours = 24
log_retention_days     = 30

noncurrent_version_expiration_days = 30

lambda_reserved_concurrency = 2
batch_size                  = 100
maximum_retry_attempts      = 5
iterator_age_alarm_ms       = 600000

postgres_instance_type  = "t3.medium"
postgres_data_volume_gb = 50
vpc_cidr                = "10.42.0.0/16"

# allowed_account_ids = ["111111111111"]   # the staging account
# alarm_emails        = ["oncall-stg@example.com"]
