# Log groups (retention, KMS) and the alarms of the streaming path, all sent
# to one encrypted SNS topic.
#
#   IteratorAge   the mapping is falling behind <env>_taxi_trip_events (records
#                 expire after the stream's retention: this must fire long before)
#   Errors        invocations that failed as a whole (bad image, crash, timeout)
#   Throttles     invocations refused: reserved concurrency too low for the shards
#   DLQ depth     batches that exhausted their retries (their records were not scored)
#   Kinesis WriteProvisionedThroughputExceeded on the trips stream (td-forwarder
#                 backs off and retries; sustained: add shards)
#   EC2 StatusCheckFailed of the PostgreSQL host

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]
}

data "aws_caller_identity" "current" {}

# ---- log groups ------------------------------------------------------------

resource "aws_cloudwatch_log_group" "lambda" {
  count = var.lambda_log_group ? 1 : 0
  #checkov:skip=CKV_AWS_338:Retention is set per environment (vars/prod.tfvars: 400 days, vars/stg.tfvars: 30 days); a year of staging debug output has no use.
  name              = "/aws/lambda/${var.lambda_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_cloudwatch_log_group" "postgres" {
  #checkov:skip=CKV_AWS_338:Retention is set per environment (vars/prod.tfvars: 400 days, vars/stg.tfvars: 30 days); a year of staging debug output has no use.
  name              = "/${var.name_prefix}/postgres"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# ---- alarm topic -----------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudWatchAlarmsOfThisAccount"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.alarms.arn
        Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.alarms.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# ---- alarms ----------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name          = "${var.lambda_function_name}-iterator-age"
  alarm_description   = "The event-source mapping lags behind ${var.trips_stream_name} by more than ${var.iterator_age_ms} ms."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = var.lambda_function_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.iterator_age_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.lambda_function_name}-errors"
  alarm_description   = "Invocations of ${var.lambda_function_name} failed as a whole (they are retried, bisected, then dead-lettered)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.lambda_function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.lambda_function_name}-throttles"
  alarm_description   = "Invocations of ${var.lambda_function_name} were throttled (reserved concurrency below the shard count?)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = var.lambda_function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name          = "${var.dlq_name}-depth"
  alarm_description   = "Batches of trip events exhausted their retries and were not scored; see the messages in ${var.dlq_name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.dlq_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "trips_write_throttled" {
  alarm_name          = "${var.trips_stream_name}-write-throttled"
  alarm_description   = "td-forwarder's PutRecords to ${var.trips_stream_name} are throttled for 15 minutes (it retries; add shards)."
  namespace           = "AWS/Kinesis"
  metric_name         = "WriteProvisionedThroughputExceeded"
  dimensions          = { StreamName = var.trips_stream_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "postgres_status" {
  alarm_name          = "${var.name_prefix}-postgres-status-check"
  alarm_description   = "The PostgreSQL host failed its EC2 status checks."
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed"
  dimensions          = { InstanceId = var.postgres_instance_id }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
