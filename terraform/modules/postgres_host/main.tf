# The PostgreSQL host: one EC2 instance in a private subnet running two
# containers under systemd (user_data.sh.tftpl): docker/postgres/Dockerfile's
# image (PostgreSQL 15 with taxi_duration and pg_cron preloaded, wal_level =
# logical, the slot and the td_forwarder role made by its initdb script) with
# PGDATA on an encrypted EBS volume, and docker/forwarder/Dockerfile's td-forwarder.  RDS and Aurora do not load custom C
# extensions; README.md explains why EC2 rather than ECS.
#
#   IMDSv2 only (hop limit 1: containers cannot reach the instance metadata)
#   encrypted root and data volumes (the environment's CMK), daily snapshots (DLM)
#   no public IP, no SSH key, no port 22: shell and psql through SSM Session Manager
#   security group: 5432 only from var.client_cidrs; egress HTTPS to the VPC's
#   endpoints and the S3 prefix list only
#   instance role: pull its image, read bundles under the bundle prefix, write
#   the trips stream, write its log group, read its runtime parameter

data "aws_partition" "current" {}

# Latest Amazon Linux 2023 at creation; later AMIs do not replace the host
# (lifecycle.ignore_changes below): patch in place with SSM Patch Manager.
data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  runtime_parameter = "/${var.name_prefix}/postgres/runtime"
  registry          = split("/", var.postgres_image_uri)[0]
}

# ---- runtime configuration (read by the host's units at every start) ----------
# Changing the image tag or the model URI: terraform apply, then
#   aws ssm send-command --instance-ids <id> --document-name AWS-RunShellScript \
#     --parameters commands='systemctl restart taxi-duration-postgres taxi-duration-forwarder'
# (README.md, "Upgrading the host's images").

resource "aws_ssm_parameter" "runtime" {
  name        = local.runtime_parameter
  description = "Environment of the taxi_duration containers on ${var.name_prefix}-postgres (no secrets)"
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value = join("\n", [
    "TD_POSTGRES_IMAGE=${var.postgres_image_uri}",
    "TD_FORWARDER_IMAGE=${var.forwarder_image_uri}",
    "TD_REGISTRY=${local.registry}",
    "AWS_REGION=${var.region}",
    "TD_MODEL_BUCKET=${var.model_bucket_name}",
    "TD_MODEL_URI=${var.model_uri}",
    "TD_TRIPS_STREAM=${var.trips_stream_name}",
    "TD_PREDICTIONS_STREAM=${var.predictions_stream}",
    "TD_SLOT=taxi_trips_kinesis",
    "TD_TABLES=public.trips",
    "TD_LOG_GROUP=${var.log_group_name}",
    "",
  ])
}

# ---- IAM -------------------------------------------------------------------------

resource "aws_iam_role" "host" {
  name = "${var.name_prefix}-postgres-host"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "ec2.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })
}

# Session Manager (shell, port forwarding to 5432) instead of SSH.
resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.host.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy" "host" {
  name = "taxi-duration-host"
  role = aws_iam_role.host.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # GetAuthorizationToken has no resource-level permissions.
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid      = "PullTheHostImages"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = var.ecr_repository_arns
      },
      {
        # The extension's loader (taxi_duration.model_uri = s3://...).
        Sid      = "ReadModelBundles"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${var.model_bucket_arn}/${var.bundle_prefix}*"
      },
      {
        # td-forwarder.
        Sid      = "WriteTripEvents"
        Effect   = "Allow"
        Action   = ["kinesis:PutRecords", "kinesis:PutRecord", "kinesis:DescribeStreamSummary"]
        Resource = var.trips_stream_arn
      },
      {
        Sid      = "ReadRuntimeConfiguration"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter"]
        Resource = aws_ssm_parameter.runtime.arn
      },
      {
        # Docker's awslogs driver.
        Sid      = "WriteContainerLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${var.log_group_arn}:*"
      },
      {
        Sid      = "UseTheKeyOnlyThroughTheseServices"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = {
            "kms:ViaService" = [
              "s3.${var.region}.amazonaws.com",
              "kinesis.${var.region}.amazonaws.com",
              "ssm.${var.region}.amazonaws.com",
              "ecr.${var.region}.amazonaws.com",
            ]
          }
        }
      },
    ]
  })
}

resource "aws_iam_instance_profile" "host" {
  name = "${var.name_prefix}-postgres-host"
  role = aws_iam_role.host.name
}

# ---- network -----------------------------------------------------------------------

resource "aws_security_group" "host" {
  name        = "${var.name_prefix}-postgres"
  description = "taxi_duration PostgreSQL host: 5432 from application subnets only; HTTPS out to AWS endpoints"
  vpc_id      = var.vpc_id

  dynamic "ingress" {
    for_each = length(var.client_cidrs) > 0 ? [1] : []
    content {
      description = "PostgreSQL from application subnets"
      from_port   = 5432
      to_port     = 5432
      protocol    = "tcp"
      cidr_blocks = var.client_cidrs
    }
  }

  egress {
    description = "HTTPS to the VPC interface endpoints (SSM, ECR, Logs, Kinesis, STS)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description     = "HTTPS to S3 through the gateway endpoint (image layers, dnf repositories, bundles)"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    prefix_list_ids = [var.s3_prefix_list_id]
  }

  tags = { Name = "${var.name_prefix}-postgres" }
}

# ---- instance and data volume -------------------------------------------------------

resource "aws_ebs_volume" "data" {
  availability_zone = var.availability_zone
  size              = var.data_volume_gb
  type              = "gp3"
  encrypted         = true
  kms_key_id        = var.kms_key_arn
  tags = {
    Name     = "${var.name_prefix}-pgdata"
    Snapshot = "${var.name_prefix}-pgdata"
  }

  lifecycle {
    prevent_destroy = false # set true once real data lives here (README.md, "Teardown")
  }
}

resource "aws_instance" "this" {
  ami                         = data.aws_ssm_parameter.al2023.value
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = [aws_security_group.host.id]
  iam_instance_profile        = aws_iam_instance_profile.host.name
  associate_public_ip_address = false
  monitoring                  = true
  ebs_optimized               = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_gb
    encrypted             = true
    kms_key_id            = var.kms_key_arn
    delete_on_termination = true
  }

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    data_volume_id    = aws_ebs_volume.data.id
    runtime_parameter = local.runtime_parameter
    region            = var.region
  })
  user_data_replace_on_change = false

  tags = { Name = "${var.name_prefix}-postgres" }

  lifecycle {
    ignore_changes = [ami]
  }
}

resource "aws_volume_attachment" "data" {
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.this.id
}

# ---- backups: daily crash-consistent snapshots of the data volume ----------------------

resource "aws_iam_role" "dlm" {
  name = "${var.name_prefix}-dlm"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "dlm.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })
}

resource "aws_iam_role_policy_attachment" "dlm" {
  role       = aws_iam_role.dlm.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole"
}

resource "aws_dlm_lifecycle_policy" "pgdata" {
  description        = "Daily snapshots of ${var.name_prefix}-pgdata"
  execution_role_arn = aws_iam_role.dlm.arn
  state              = "ENABLED"

  policy_details {
    resource_types = ["VOLUME"]
    target_tags    = { Snapshot = "${var.name_prefix}-pgdata" }

    schedule {
      name      = "daily"
      copy_tags = true

      create_rule {
        interval      = 24
        interval_unit = "HOURS"
        times         = ["02:30"]
      }

      retain_rule {
        count = var.snapshot_retain_count
      }
    }
  }
}
