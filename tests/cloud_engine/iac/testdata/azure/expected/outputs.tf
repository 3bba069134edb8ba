output "network__core" {
  description = "VNet id"
  value       = azurerm_virtual_network.core.id
}

output "firewall__web-fw" {
  description = "NSG id"
  value       = azurerm_network_security_group.web-fw.id
}

output "bucket__assets-ce" {
  description = "Blob endpoint"
  value       = azurerm_storage_account.assets-ce.primary_blob_endpoint
}

output "database__orders-db" {
  description = "Server FQDN"
  value       = azurerm_postgresql_flexible_server.orders-db.fqdn
}

output "vm__web-1" {
  description = "VM id"
  value       = azurerm_linux_virtual_machine.web-1.id
}

output "k8s_cluster__apps" {
  description = "Cluster id"
  value       = azurerm_kubernetes_cluster.apps.id
}
