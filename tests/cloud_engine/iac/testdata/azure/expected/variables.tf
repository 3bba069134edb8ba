variable "location" {
  description = "Azure region of the resource group and of resources that do not name one"
  type        = string
  default     = "westeurope"
}

variable "subscription_id" {
  description = "Subscription id; null falls back to ARM_SUBSCRIPTION_ID in the environment"
  type        = string
  default     = null
}

variable "admin_ssh_public_key" {
  description = "SSH public key for the admin user of Azure VMs (password login is disabled)"
  type        = string
}
