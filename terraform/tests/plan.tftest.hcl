# Offline plan of the whole configuration with a mocked AWS provider (no
# account, no network):
#   terraform -chdir=terraform test -var-file=vars/stg.tfvars
#   terraform -chdir=terraform test -var-file=vars/prod.tfvars
# Checks that each var file passes the variable validations (the <env>_
# stream and function names, S3's bucket-name rules), that every module plans
# (user data renders, references resolve), that the streaming settings match
# template.yaml, that a wrong name is refused and that a deployment may choose
# its own bucket names.  tests/ops/validate_iac.sh runs both.

mock_provider "aws" {
  # ARNs the provider validates must look like ARNs.
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-north-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-north-1:123456789012:mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-north-1:123456789012:mock" }
  }
  mock_resource "aws_kinesis_stream" {
    defaults = { arn = "arn:aws:kinesis:eu-north-1:123456789012:stream/mock" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-north-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-north-1:123456789012:function:mock" }
  }
  mock_resource "aws_ssm_parameter" {
    defaults = { arn = "arn:aws:ssm:eu-north-1:123456789012:parameter/mock" }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = { arn = "arn:aws:iam::123456789012:instance-profile/mock" }
  }
  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:eu-north-1:123456789012:repository/mock"
      repository_url = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/mock"
    }
  }
  # Data sources answer realistic values (the mock's random strings are not
  # valid partitions, account ids or AMI ids).
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  override_data {
    target = module.model_bucket.data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  override_data {
    target = module.monitoring.data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  override_data {
    target = module.network.data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = module.lambda[0].data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = module.postgres_host.data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = module.lambda[0].data.aws_region.current
    values = { name = "eu-north-1" }
  }
  override_data {
    target = module.postgres_host.data.aws_ssm_parameter.al2023
    values = { value = "ami-0123456789abcdef0" }
  }
}

run "names_follow_the_var_file" {
  command = apply # against the mock provider: nothing is created

  assert {
    condition     = output.trips_stream == "${var.env}_taxi_trip_events"
    error_message = "trips stream is not <env>_taxi_trip_events"
  }
  assert {
    condition     = output.predictions_stream == "${var.env}_taxi_predictions"
    error_message = "predictions stream is not <env>_taxi_predictions"
  }
  assert {
    condition     = output.model_bucket == var.model_bucket_name
    error_message = "the model bucket is not the var file's model_bucket_name"
  }
  assert {
    condition     = output.access_log_bucket == "${var.model_bucket_name}-access-logs"
    error_message = "the access-log bucket is not <model bucket>-access-logs by default"
  }
  assert {
    condition     = output.model_uri == "s3://${output.model_bucket}/taxi-duration/${var.model_version}/bundle.json"
    error_message = "TD_MODEL_URI does not follow the publishing contract"
  }
  assert {
    condition     = var.aws_region == "eu-north-1"
    error_message = "region is not eu-north-1"
  }
  assert {
    condition     = output.lambda_function_name == "${var.env}-taxi-trip-prediction"
    error_message = "function name differs from template.yaml"
  }
}

run "wrong_stream_name_is_refused" {
  command = plan
  variables {
    trips_stream_name = "taxi_trip_events"
  }
  expect_failures = [var.trips_stream_name]
}

run "bucket_with_uppercase_is_refused" {
  command = plan
  variables {
    model_bucket_name = "RLL-models-dev"
  }
  expect_failures = [var.model_bucket_name]
}

run "bucket_named_like_an_ip_address_is_refused" {
  command = plan
  variables {
    model_bucket_name = "192.168.10.12"
  }
  expect_failures = [var.model_bucket_name]
}

run "bucket_too_short_is_refused" {
  command = plan
  variables {
    model_bucket_name = "ab"
  }
  expect_failures = [var.model_bucket_name]
}

run "dotted_model_bucket_is_refused" {
  command = plan
  variables {
    model_bucket_name = "models.example.com"
  }
  expect_failures = [var.model_bucket_name]
}

run "bucket_too_long_for_its_access_logs_is_refused" {
  command = plan
  variables {
    model_bucket_name = "taxi-duration-models-of-a-very-long-organisation-nam" # 52 characters
  }
  expect_failures = [var.access_log_bucket_name]
}

run "invalid_access_log_bucket_is_refused" {
  command = plan
  variables {
    access_log_bucket_name = "Access_Logs"
  }
  expect_failures = [var.access_log_bucket_name]
}

run "own_bucket_names_are_accepted" {
  command = apply
  variables {
    model_bucket_name      = "example-org-taxi-duration-${var.env}"
    access_log_bucket_name = "example-org-taxi-duration-${var.env}-logs"
  }

  assert {
    condition     = output.model_bucket == "example-org-taxi-duration-${var.env}" && output.access_log_bucket == "example-org-taxi-duration-${var.env}-logs"
    error_message = "a deployment's own bucket names are not used"
  }
  assert {
    condition     = output.model_uri == "s3://example-org-taxi-duration-${var.env}/taxi-duration/${var.model_version}/bundle.json"
    error_message = "TD_MODEL_URI does not name the deployment's own bucket"
  }
}

run "stream_scoring_settings_match_template_yaml" {
  command = apply

  assert {
    condition     = module.lambda[0].event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "the mapping must report batch item failures (the bootstrap answers batchItemFailures)"
  }
  assert {
    condition     = module.lambda[0].event_source_mapping.bisect_batch_on_function_error
    error_message = "the mapping must bisect a failing batch"
  }
  assert {
    condition     = module.lambda[0].event_source_mapping.maximum_retry_attempts == 5 && module.lambda[0].event_source_mapping.batch_size == 100
    error_message = "retries and batch size differ from template.yaml (5, 100)"
  }
  assert {
    condition     = module.lambda[0].event_source_mapping.starting_position == "LATEST"
    error_message = "starting position differs from template.yaml (LATEST)"
  }
  assert {
    condition     = module.lambda[0].event_source_mapping.on_failure_destination == module.lambda[0].dlq_arn
    error_message = "failed batches must go to the DLQ"
  }
  assert {
    condition     = module.lambda[0].dlq_name == "${var.lambda_function_name}-dlq"
    error_message = "DLQ name differs from template.yaml (<function>-dlq)"
  }
}

run "sam_owns_the_function" {
  command = apply
  variables {
    manage_lambda = false
  }

  assert {
    condition     = length(module.lambda) == 0 && output.lambda_function_name == "${var.env}-taxi-trip-prediction"
    error_message = "with manage_lambda = false nothing of the function is created here"
  }
}
