terraform {
  backend "azurerm" {
    resource_group_name  = "rg-tfstate"
    storage_account_name = "shoptfstate"
    container_name       = "tfstate"
    key                  = "shop.tfstate"
  }
}
