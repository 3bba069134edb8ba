"""Running Cloud Engine as a service: backups, Prometheus metrics, graceful shutdown."""
