"""Microsoft Azure resource kinds (hashicorp/azurerm)."""
