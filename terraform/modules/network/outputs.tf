output "vpc_id" {
  value = aws_vpc.this.id
}

output "private_subnet_ids" {
  value = aws_subnet.private[*].id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint (for security-group egress rules)."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}
