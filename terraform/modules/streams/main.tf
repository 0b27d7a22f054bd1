# The two Kinesis streams of one environment (<env>_taxi_trip_events and
# <env>_taxi_predictions, as in .env.* and template.yaml),
# encrypted with the environment's customer-managed key.  Writers need
# kms:GenerateDataKey and readers kms:Decrypt on that key (the roles in
# modules/lambda and modules/postgres_host grant exactly that, via Kinesis).

locals {
  streams = {
    trips       = var.trips_stream_name
    predictions = var.predictions_stream_name
  }
}

resource "aws_kinesis_stream" "this" {
  for_each = local.streams

  name             = each.value
  shard_count      = var.stream_mode == "PROVISIONED" ? var.shard_count : null
  retention_period = var.retention_hours

  encryption_type = "KMS"
  kms_key_id      = var.kms_key_arn

  shard_level_metrics = [
    "IncomingRecords",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
  ]

  stream_mode_details {
    stream_mode = var.stream_mode
  }
}
