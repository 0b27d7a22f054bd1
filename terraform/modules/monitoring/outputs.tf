output "alarm_topic_arn" {
  value = aws_sns_topic.alarms.arn
}

output "lambda_log_group_name" {
  value = one(aws_cloudwatch_log_group.lambda[*].name)
}

output "lambda_log_group_arn" {
  value = one(aws_cloudwatch_log_group.lambda[*].arn)
}

output "postgres_log_group_name" {
  value = aws_cloudwatch_log_group.postgres.name
}

output "postgres_log_group_arn" {
  value = aws_cloudwatch_log_group.postgres.arn
}
