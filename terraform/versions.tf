terraform {
  # 1.9+: variable validations may refer to other variables (variables.tf);
  # 1.10+: the S3 backend's use_lockfile (backend/*.s3.tfbackend).
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80.0, < 6.0.0"
    }
  }

  # No backend block here on purpose: `terraform init -backend=false` and
  # `terraform validate` work offline.  To keep state in S3 with locking, copy
  # backend.tf.example to backend.tf and init with -backend-config=backend/<env>.s3.tfbackend
  # (README.md, "State").
}
