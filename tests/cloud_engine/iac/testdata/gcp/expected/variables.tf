variable "project_id" {
  description = "GCP project id; null falls back to GOOGLE_PROJECT in the environment"
  type        = string
  default     = null
}

variable "region" {
  description = "Default region for resources that do not name one"
  type        = string
  default     = "europe-west1"
}
