# The stream-scoring function: the C bootstrap image (lambda/Dockerfile) from
# ECR, fed by a Kinesis event-source mapping on <env>_taxi_trip_events, writing
# to <env>_taxi_predictions (docs/streaming.md).  Same settings as template.yaml.

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  region = data.aws_region.current.name
}

# ---- dead letters: batches that exhausted their retries -------------------

resource "aws_sqs_queue" "dlq" {
  name                              = var.dlq_name
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = aws_sqs_queue.dlq.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

# ---- execution role: least privilege --------------------------------------

resource "aws_iam_role" "function" {
  name = "${var.function_name}-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })
}

resource "aws_iam_role_policy" "function" {
  name = "stream-scoring"
  role = aws_iam_role.function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The event-source mapping polls the trips stream with this role.
        Sid    = "ReadTripEvents"
        Effect = "Allow"
        Action = [
          "kinesis:DescribeStream",
          "kinesis:DescribeStreamSummary",
          "kinesis:GetRecords",
          "kinesis:GetShardIterator",
          "kinesis:ListShards",
        ]
        Resource = var.trips_stream_arn
      },
      {
        Sid      = "WritePredictionEvents"
        Effect   = "Allow"
        Action   = ["kinesis:PutRecords"]
        Resource = var.predictions_stream_arn
      },
      {
        Sid      = "ReadModelBundles"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${var.model_bucket_arn}/${var.bundle_prefix}*"
      },
      {
        # The mapping's on-failure destination is sent with the function's role.
        Sid      = "SendFailedBatchesToTheDLQ"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = aws_sqs_queue.dlq.arn
      },
      {
        # Decrypt trip events and bundles; encrypt prediction events and DLQ messages.
        Sid      = "UseTheKeyOnlyThroughTheseServices"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = {
            "kms:ViaService" = [
              "kinesis.${local.region}.amazonaws.com",
              "s3.${local.region}.amazonaws.com",
              "sqs.${local.region}.amazonaws.com",
            ]
          }
        }
      },
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${var.log_group_arn}:*"
      },
    ]
  })
}

# X-Ray's write actions cannot be restricted to a resource; AWS's managed
# policy holds exactly those.
resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# ---- function --------------------------------------------------------------

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Only the Kinesis event-source mapping invokes the function, synchronously; an async DLQ would never receive anything. Failed batches go to the mapping's on-failure destination (the SQS queue below).
  #checkov:skip=CKV_AWS_117:The function reaches only IAM-authenticated AWS APIs (Kinesis, S3) over TLS and serves no network endpoint; a VPC attachment would add ENI management rights and endpoint dependencies without removing any exposure.
  #checkov:skip=CKV_AWS_272:Lambda code signing applies to .zip packages only; this is a container image, whose integrity comes from the immutable, scanned ECR tag it is deployed by.
  function_name = var.function_name
  description   = "taxi_duration: trip events -> ride duration predictions (C custom runtime)"
  role          = aws_iam_role.function.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = ["x86_64"]
  memory_size   = var.memory_mb
  timeout       = var.timeout_s

  reserved_concurrent_executions = var.reserved_concurrency

  # The environment holds names only (no secrets); encrypted with the CMK anyway.
  kms_key_arn = var.kms_key_arn
  environment {
    variables = {
      PREDICTIONS_STREAM = var.predictions_stream
      TD_MODEL_URI       = var.model_uri
    }
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_event_source_mapping" "trips" {
  event_source_arn  = var.trips_stream_arn
  function_name     = aws_lambda_function.this.arn
  starting_position = "LATEST"

  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = 1
  parallelization_factor             = 1

  # The bootstrap answers {"batchItemFailures": [...]} (docs/streaming.md):
  # only those records and the ones after them are retried.
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = var.maximum_retry_attempts
  maximum_record_age_in_seconds  = var.maximum_record_age_s

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.dlq.arn
    }
  }

  depends_on = [aws_iam_role_policy.function]
}
