output "lambda_repository_url" {
  value = aws_ecr_repository.this["lambda"].repository_url
}

output "lambda_repository_arn" {
  value = aws_ecr_repository.this["lambda"].arn
}

output "postgres_repository_url" {
  value = aws_ecr_repository.this["postgres"].repository_url
}

output "postgres_repository_arn" {
  value = aws_ecr_repository.this["postgres"].arn
}

output "forwarder_repository_url" {
  value = aws_ecr_repository.this["forwarder"].repository_url
}

output "forwarder_repository_arn" {
  value = aws_ecr_repository.this["forwarder"].arn
}
