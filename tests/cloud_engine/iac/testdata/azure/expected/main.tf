resource "azurerm_resource_group" "main" {
  name     = "rg-shop"
  location = var.location
  tags = {
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

data "azurerm_client_config" "current" {}

resource "azurerm_virtual_network" "core" {
  name                = "core"
  resource_group_name = azurerm_resource_group.main.name
  location            = "westeurope"
  address_space       = ["10.20.0.0/16"]
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "azurerm_subnet" "core__app" {
  name                 = "app"
  resource_group_name  = azurerm_resource_group.main.name
  virtual_network_name = azurerm_virtual_network.core.name
  address_prefixes     = ["10.20.1.0/24"]
}

resource "azurerm_subnet" "core__data" {
  name                 = "data"
  resource_group_name  = azurerm_resource_group.main.name
  virtual_network_name = azurerm_virtual_network.core.name
  address_prefixes     = ["10.20.2.0/24"]
}

resource "azurerm_network_security_group" "web-fw" {
  name                = "web-fw"
  resource_group_name = azurerm_resource_group.main.name
  location            = "westeurope"
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "azurerm_network_security_rule" "web-fw__r0" {
  name                        = "web-fw-r0"
  resource_group_name         = azurerm_resource_group.main.name
  network_security_group_name = azurerm_network_security_group.web-fw.name
  description                 = "Front end — \"blue\" $${env}"
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_ranges     = ["80", "443", "8000-8080"]
  source_address_prefixes     = ["10.0.0.0/8"]
  destination_address_prefix  = "*"
}

resource "azurerm_network_security_rule" "web-fw__r1" {
  name                        = "web-fw-r1"
  resource_group_name         = azurerm_resource_group.main.name
  network_security_group_name = azurerm_network_security_group.web-fw.name
  description                 = "Front end — \"blue\" $${env}"
  priority                    = 110
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_ranges     = ["22"]
  source_address_prefixes     = ["10.20.0.0/16"]
  destination_address_prefix  = "*"
}

resource "azurerm_network_security_rule" "web-fw__r2" {
  name                         = "web-fw-r2"
  resource_group_name          = azurerm_resource_group.main.name
  network_security_group_name  = azurerm_network_security_group.web-fw.name
  description                  = "Front end — \"blue\" $${env}"
  priority                     = 120
  direction                    = "Outbound"
  access                       = "Allow"
  protocol                     = "*"
  source_port_range            = "*"
  destination_port_range       = "*"
  destination_address_prefixes = ["0.0.0.0/0"]
  source_address_prefix        = "*"
}

resource "azurerm_subnet_network_security_group_association" "web-fw__app" {
  subnet_id                 = azurerm_subnet.core__app.id
  network_security_group_id = azurerm_network_security_group.web-fw.id
}

resource "azurerm_subnet_network_security_group_association" "web-fw__data" {
  subnet_id                 = azurerm_subnet.core__data.id
  network_security_group_id = azurerm_network_security_group.web-fw.id
}

resource "azurerm_storage_account" "assets-ce" {
  name                              = "assetsce"
  resource_group_name               = azurerm_resource_group.main.name
  location                          = "westeurope"
  account_tier                      = "Standard"
  account_replication_type          = "ZRS"
  account_kind                      = "StorageV2"
  access_tier                       = "Hot"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  infrastructure_encryption_enabled = true
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  blob_properties {
    versioning_enabled = true

    delete_retention_policy {
      days = 7
    }

    container_delete_retention_policy {
      days = 7
    }
  }
}

resource "azurerm_storage_container" "assets-ce" {
  name                  = "assets-ce"
  storage_account_id    = azurerm_storage_account.assets-ce.id
  container_access_type = "private"
}

resource "azurerm_storage_container_immutability_policy" "assets-ce" {
  storage_container_resource_manager_id = azurerm_storage_container.assets-ce.resource_manager_id
  immutability_period_in_days           = 30
}

resource "random_password" "orders-db" {
  length  = 32
  special = true
}

resource "azurerm_postgresql_flexible_server" "orders-db" {
  name                          = "orders-db"
  resource_group_name           = azurerm_resource_group.main.name
  location                      = "westeurope"
  version                       = "16"
  sku_name                      = "B_Standard_B1ms"
  storage_mb                    = 32768
  backup_retention_days         = 7
  geo_redundant_backup_enabled  = false
  public_network_access_enabled = false
  administrator_login           = "dbadmin"
  administrator_password        = random_password.orders-db.result
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  authentication {
    active_directory_auth_enabled = true
    password_auth_enabled         = true
    tenant_id                     = data.azurerm_client_config.current.tenant_id
  }
}

resource "azurerm_private_endpoint" "orders-db" {
  name                = "orders-db-pe"
  resource_group_name = azurerm_resource_group.main.name
  location            = "westeurope"
  subnet_id           = azurerm_subnet.core__data.id
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  private_service_connection {
    name                           = "orders-db-psc"
    private_connection_resource_id = azurerm_postgresql_flexible_server.orders-db.id
    subresource_names              = ["postgresqlServer"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "default"
    private_dns_zone_ids = [azurerm_private_dns_zone.postgres__privatelink.id]
  }
}

resource "azurerm_management_lock" "orders-db" {
  name       = "orders-db-no-delete"
  scope      = azurerm_postgresql_flexible_server.orders-db.id
  lock_level = "CanNotDelete"
  notes      = "Deletion protection requested in Cloud Engine"
}

resource "azurerm_network_interface" "web-1" {
  name                = "web-1-nic"
  resource_group_name = azurerm_resource_group.main.name
  location            = "westeurope"
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  ip_configuration {
    name                          = "primary"
    subnet_id                     = azurerm_subnet.core__app.id
    private_ip_address_allocation = "Dynamic"
  }
}

resource "azurerm_linux_virtual_machine" "web-1" {
  name                            = "web-1"
  resource_group_name             = azurerm_resource_group.main.name
  location                        = "westeurope"
  size                            = "Standard_B2s"
  admin_username                  = "azureuser"
  disable_password_authentication = true
  network_interface_ids           = [azurerm_network_interface.web-1.id]
  encryption_at_host_enabled      = true
  secure_boot_enabled             = true
  vtpm_enabled                    = true
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  admin_ssh_key {
    username   = "azureuser"
    public_key = var.admin_ssh_public_key
  }

  os_disk {
    caching              = "ReadWrite"
    storage_account_type = "Premium_LRS"
    disk_size_gb         = 30
  }

  source_image_reference {
    publisher = "Canonical"
    offer     = "0001-com-ubuntu-server-jammy"
    sku       = "22_04-lts-gen2"
    version   = "latest"
  }
}

resource "azurerm_kubernetes_cluster" "apps" {
  name                              = "apps"
  resource_group_name               = azurerm_resource_group.main.name
  location                          = "westeurope"
  dns_prefix                        = "apps"
  kubernetes_version                = "1.30"
  private_cluster_enabled           = true
  role_based_access_control_enabled = true
  local_account_disabled            = true
  sku_tier                          = "Free"
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  default_node_pool {
    name                        = "system"
    vm_size                     = "Standard_D2s_v5"
    node_count                  = 2
    vnet_subnet_id              = azurerm_subnet.core__app.id
    temporary_name_for_rotation = "systemtmp"
    host_encryption_enabled     = true
  }

  identity {
    type = "SystemAssigned"
  }

  azure_active_directory_role_based_access_control {
    azure_rbac_enabled = true
    tenant_id          = data.azurerm_client_config.current.tenant_id
  }

  network_profile {
    network_plugin = "azure"
    network_policy = "azure"
    service_cidr   = "10.0.0.0/16"
    dns_service_ip = "10.0.0.10"
  }
}

resource "azurerm_public_ip" "core__nat" {
  name                = "core-nat-ip"
  resource_group_name = azurerm_resource_group.main.name
  location            = "westeurope"
  allocation_method   = "Static"
  sku                 = "Standard"
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "azurerm_nat_gateway" "core__nat" {
  name                = "core-nat"
  resource_group_name = azurerm_resource_group.main.name
  location            = "westeurope"
  sku_name            = "Standard"
  tags = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "azurerm_nat_gateway_public_ip_association" "core__nat" {
  nat_gateway_id       = azurerm_nat_gateway.core__nat.id
  public_ip_address_id = azurerm_public_ip.core__nat.id
}

resource "azurerm_subnet_nat_gateway_association" "core__app" {
  subnet_id      = azurerm_subnet.core__app.id
  nat_gateway_id = azurerm_nat_gateway.core__nat.id
}

resource "azurerm_private_dns_zone" "postgres__privatelink" {
  name                = "privatelink.postgres.database.azure.com"
  resource_group_name = azurerm_resource_group.main.name
  tags = {
    managed_by = "cloud-engine"
    project    = "shop"
  }
}

resource "azurerm_private_dns_zone_virtual_network_link" "core__postgres__privatelink" {
  name                  = "core-postgres-dns"
  resource_group_name   = azurerm_resource_group.main.name
  private_dns_zone_name = azurerm_private_dns_zone.postgres__privatelink.name
  virtual_network_id    = azurerm_virtual_network.core.id
  registration_enabled  = false
  tags = {
    managed_by = "cloud-engine"
    project    = "shop"
  }
}
