output "function_name" {
  value = aws_lambda_function.this.function_name
}

output "function_arn" {
  value = aws_lambda_function.this.arn
}

output "role_arn" {
  value = aws_iam_role.function.arn
}

output "dlq_name" {
  value = aws_sqs_queue.dlq.name
}

output "dlq_arn" {
  value = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  value = aws_sqs_queue.dlq.id
}

output "event_source_mapping_uuid" {
  value = aws_lambda_event_source_mapping.trips.uuid
}

output "event_source_mapping" {
  description = "The mapping's delivery settings (asserted by tests/plan.tftest.hcl against template.yaml's)."
  value = {
    starting_position              = aws_lambda_event_source_mapping.trips.starting_position
    batch_size                     = aws_lambda_event_source_mapping.trips.batch_size
    function_response_types        = aws_lambda_event_source_mapping.trips.function_response_types
    bisect_batch_on_function_error = aws_lambda_event_source_mapping.trips.bisect_batch_on_function_error
    maximum_retry_attempts         = aws_lambda_event_source_mapping.trips.maximum_retry_attempts
    on_failure_destination         = aws_lambda_event_source_mapping.trips.destination_config[0].on_failure[0].destination_arn
  }
}
