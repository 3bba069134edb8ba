output "network__core" {
  description = "Network id"
  value       = google_compute_network.core.id
}

output "bucket__assets-ce" {
  description = "Bucket URL"
  value       = google_storage_bucket.assets-ce.url
}

output "database__orders-db" {
  description = "Connection name"
  value       = google_sql_database_instance.orders-db.connection_name
}

output "vm__web-1" {
  description = "Instance self link"
  value       = google_compute_instance.web-1.self_link
}

output "k8s_cluster__apps" {
  description = "API endpoint"
  value       = google_container_cluster.apps.endpoint
}
