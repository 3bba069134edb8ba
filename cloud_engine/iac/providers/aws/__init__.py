"""Amazon Web Services resource kinds (hashicorp/aws)."""
