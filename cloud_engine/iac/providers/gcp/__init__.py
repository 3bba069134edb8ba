"""Google Cloud resource kinds (hashicorp/google)."""
