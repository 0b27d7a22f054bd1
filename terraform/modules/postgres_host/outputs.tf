output "instance_id" {
  value = aws_instance.this.id
}

output "role_arn" {
  value = aws_iam_role.host.arn
}

output "security_group_id" {
  value = aws_security_group.host.id
}

output "data_volume_id" {
  value = aws_ebs_volume.data.id
}

output "runtime_parameter_name" {
  description = "SSM parameter holding the containers' configuration (image, names, model URI)."
  value       = aws_ssm_parameter.runtime.name
}
