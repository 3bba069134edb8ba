output "network__core" {
  description = "VPC id"
  value       = aws_vpc.core.id
}

output "firewall__web-fw" {
  description = "Security group id"
  value       = aws_security_group.web-fw.id
}

output "bucket__assets-ce" {
  description = "Bucket ARN"
  value       = aws_s3_bucket.assets-ce.arn
}

output "database__orders-db" {
  description = "Endpoint"
  value       = aws_db_instance.orders-db.endpoint
}

output "vm__web-1" {
  description = "Instance id"
  value       = aws_instance.web-1.id
}

output "k8s_cluster__apps" {
  description = "API endpoint"
  value       = aws_eks_cluster.apps.endpoint
}
