# Repositories per environment:
#   <env>-taxi-duration-lambda     lambda/Dockerfile (provided.al2023 + the C bootstrap)
#   <env>-taxi-duration-postgres   docker/postgres/Dockerfile (PostgreSQL 15 + taxi_duration
#                                  + pg_cron), run by the host (modules/postgres_host)
#   <env>-taxi-duration-forwarder  docker/forwarder/Dockerfile (td-forwarder), run beside it
# Tags are immutable (push a git sha, never "latest"), every push is scanned,
# images are encrypted with the environment's key, and old images expire.

locals {
  repositories = {
    lambda    = "${var.name_prefix}-lambda"
    postgres  = "${var.name_prefix}-postgres"
    forwarder = "${var.name_prefix}-forwarder"
  }
}

resource "aws_ecr_repository" "this" {
  for_each = local.repositories

  name                 = each.value
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each   = aws_ecr_repository.this
  repository = each.value.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images (superseded build layers) after ${var.untagged_expiry_days} days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_expiry_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the ${var.keep_tagged_images} most recent tagged images (rollback window)"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_tagged_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

# Lambda pulls the function's image with the service principal; limit it to
# this environment's function.
resource "aws_ecr_repository_policy" "lambda" {
  repository = aws_ecr_repository.this["lambda"].name

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LambdaPullsTheFunctionImage"
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Condition = {
          StringLike = { "aws:sourceArn" = var.lambda_function_arn }
        }
      },
    ]
  })
}
