output "trips_stream_name" {
  value = aws_kinesis_stream.this["trips"].name
}

output "trips_stream_arn" {
  value = aws_kinesis_stream.this["trips"].arn
}

output "predictions_stream_name" {
  value = aws_kinesis_stream.this["predictions"].name
}

output "predictions_stream_arn" {
  value = aws_kinesis_stream.this["predictions"].arn
}
