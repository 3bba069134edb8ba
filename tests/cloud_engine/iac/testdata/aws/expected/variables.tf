variable "region" {
  description = "Default region for resources that do not name one"
  type        = string
  default     = "us-east-1"
}
