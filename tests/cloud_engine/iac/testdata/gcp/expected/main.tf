resource "google_compute_network" "core" {
  name                    = "core"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "core__app" {
  name                     = "app"
  ip_cidr_range            = "10.20.1.0/24"
  region                   = "europe-west1"
  network                  = google_compute_network.core.id
  private_ip_google_access = true
}

resource "google_compute_subnetwork" "core__data" {
  name                     = "data"
  ip_cidr_range            = "10.20.2.0/24"
  region                   = "europe-west1"
  network                  = google_compute_network.core.id
  private_ip_google_access = true
}

resource "google_compute_instance" "web-1" {
  name         = "web-1"
  machine_type = "e2-standard-2"
  zone         = "europe-west1-a"
  description  = "Front end — \"blue\" $${env} 100%%{x}"
  labels = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }
  allow_stopping_for_update = true
  metadata = {
    block-project-ssh-keys = "TRUE"
    enable-oslogin         = "TRUE"
  }

  boot_disk {
    auto_delete = true

    initialize_params {
      image = "debian-cloud/debian-12"
      size  = 30
      type  = "pd-balanced"
      labels = {
        team       = "platform"
        env        = "prod"
        managed_by = "cloud-engine"
        project    = "shop"
      }
    }
  }

  network_interface {
    network    = google_compute_network.core.id
    subnetwork = google_compute_subnetwork.core__app.id
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }
}

resource "google_sql_database_instance" "orders-db" {
  name                = "orders-db"
  database_version    = "POSTGRES_16"
  region              = "europe-west1"
  deletion_protection = true

  settings {
    tier                        = "db-custom-2-7680"
    edition                     = "ENTERPRISE"
    availability_type           = "ZONAL"
    disk_size                   = 20
    disk_type                   = "PD_SSD"
    disk_autoresize             = true
    deletion_protection_enabled = true
    user_labels = {
      team       = "platform"
      env        = "prod"
      managed_by = "cloud-engine"
      project    = "shop"
    }

    backup_configuration {
      enabled                        = true
      start_time                     = "03:00"
      point_in_time_recovery_enabled = true

      backup_retention_settings {
        retained_backups = 7
        retention_unit   = "COUNT"
      }
    }

    ip_configuration {
      ipv4_enabled = true
      ssl_mode     = "ENCRYPTED_ONLY"
    }
  }
}

resource "google_storage_bucket" "assets-ce" {
  name                        = "assets-ce"
  location                    = "EUROPE-WEST1"
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  versioning {
    enabled = true
  }

  retention_policy {
    retention_period = 2592000
  }
}

resource "google_compute_firewall" "web-fw__r0" {
  name          = "web-fw-r0"
  network       = google_compute_network.core.id
  description   = "Front end — \"blue\" $${env} 100%%{x}"
  direction     = "INGRESS"
  priority      = 1000
  source_ranges = ["10.0.0.0/8"]

  allow {
    protocol = "tcp"
    ports    = ["80", "443", "8000-8080"]
  }
}

resource "google_compute_firewall" "web-fw__r1" {
  name          = "web-fw-r1"
  network       = google_compute_network.core.id
  description   = "Front end — \"blue\" $${env} 100%%{x}"
  direction     = "INGRESS"
  priority      = 1000
  source_ranges = ["10.20.0.0/16"]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_firewall" "web-fw__r2" {
  name               = "web-fw-r2"
  network            = google_compute_network.core.id
  description        = "Front end — \"blue\" $${env} 100%%{x}"
  direction          = "EGRESS"
  priority           = 1000
  destination_ranges = ["0.0.0.0/0"]

  allow {
    protocol = "all"
  }
}

resource "google_container_cluster" "apps" {
  name                     = "apps"
  location                 = "europe-west1"
  min_master_version       = "1.30"
  network                  = google_compute_network.core.id
  subnetwork               = google_compute_subnetwork.core__app.id
  remove_default_node_pool = true
  initial_node_count       = 1
  enable_shielded_nodes    = true
  resource_labels = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  release_channel {
    channel = "REGULAR"
  }

  ip_allocation_policy {}

  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false
    master_ipv4_cidr_block  = "172.16.0.0/28"
  }
}

resource "google_container_node_pool" "apps__nodes" {
  name       = "apps-nodes"
  cluster    = google_container_cluster.apps.id
  location   = "europe-west1"
  node_count = 2

  node_config {
    machine_type = "e2-standard-2"
    labels = {
      team       = "platform"
      env        = "prod"
      managed_by = "cloud-engine"
      project    = "shop"
    }
    oauth_scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    metadata = {
      disable-legacy-endpoints = "true"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }
}
