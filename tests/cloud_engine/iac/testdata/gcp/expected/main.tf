data "google_client_config" "current" {}

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

  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_subnetwork" "core__data" {
  name                     = "data"
  ip_cidr_range            = "10.20.2.0/24"
  region                   = "europe-west1"
  network                  = google_compute_network.core.id
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
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

resource "google_sql_database_instance" "orders-db" {
  name                = "orders-db"
  database_version    = "POSTGRES_16"
  region              = "europe-west1"
  deletion_protection = true
  depends_on          = [google_service_networking_connection.core__private_services]

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
      ipv4_enabled    = false
      private_network = google_compute_network.core.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }

    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }

    database_flags {
      name  = "log_connections"
      value = "on"
    }

    database_flags {
      name  = "log_disconnections"
      value = "on"
    }

    database_flags {
      name  = "log_duration"
      value = "on"
    }

    database_flags {
      name  = "log_hostname"
      value = "on"
    }

    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }

    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }

    database_flags {
      name  = "log_min_messages"
      value = "warning"
    }

    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
  }
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

resource "google_container_cluster" "apps" {
  name                        = "apps"
  location                    = "europe-west1"
  min_master_version          = "1.30"
  network                     = google_compute_network.core.id
  subnetwork                  = google_compute_subnetwork.core__app.id
  remove_default_node_pool    = true
  initial_node_count          = 1
  enable_shielded_nodes       = true
  enable_intranode_visibility = true
  deletion_protection         = false
  resource_labels = {
    team       = "platform"
    env        = "prod"
    managed_by = "cloud-engine"
    project    = "shop"
  }

  release_channel {
    channel = "REGULAR"
  }

  node_config {
    machine_type = "e2-standard-2"
    labels = {
      team       = "platform"
      env        = "prod"
      managed_by = "cloud-engine"
      project    = "shop"
    }
    service_account = google_service_account.apps__nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    metadata = {
      disable-legacy-endpoints = "true"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }

  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }

  binary_authorization {
    evaluation_mode = "PROJECT_SINGLETON_POLICY_ENFORCE"
  }

  ip_allocation_policy {}

  workload_identity_config {
    workload_pool = "${data.google_client_config.current.project}.svc.id.goog"
  }

  network_policy {
    enabled  = true
    provider = "CALICO"
  }

  addons_config {
    network_policy_config {
      disabled = false
    }
  }

  master_authorized_networks_config {
    gcp_public_cidrs_access_enabled = false

    cidr_blocks {
      cidr_block   = "10.20.1.0/24"
      display_name = "app"
    }

    cidr_blocks {
      cidr_block   = "10.20.2.0/24"
      display_name = "data"
    }
  }

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
    service_account = google_service_account.apps__nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    metadata = {
      disable-legacy-endpoints = "true"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }
}

resource "google_service_account" "apps__nodes" {
  account_id   = "apps-nodes"
  display_name = "GKE nodes of apps"
}

resource "google_project_iam_member" "apps__nodes__logging_logWriter" {
  project = data.google_client_config.current.project
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.apps__nodes.email}"
}

resource "google_project_iam_member" "apps__nodes__monitoring_metricWriter" {
  project = data.google_client_config.current.project
  role    = "roles/monitoring.metricWriter"
  member  = "serviceAccount:${google_service_account.apps__nodes.email}"
}

resource "google_project_iam_member" "apps__nodes__monitoring_viewer" {
  project = data.google_client_config.current.project
  role    = "roles/monitoring.viewer"
  member  = "serviceAccount:${google_service_account.apps__nodes.email}"
}

resource "google_project_iam_member" "apps__nodes__stackdriver_resourceMetadata_writer" {
  project = data.google_client_config.current.project
  role    = "roles/stackdriver.resourceMetadata.writer"
  member  = "serviceAccount:${google_service_account.apps__nodes.email}"
}

resource "google_project_iam_member" "apps__nodes__artifactregistry_reader" {
  project = data.google_client_config.current.project
  role    = "roles/artifactregistry.reader"
  member  = "serviceAccount:${google_service_account.apps__nodes.email}"
}

resource "google_compute_router" "core__router" {
  name    = "core-router"
  region  = "europe-west1"
  network = google_compute_network.core.id
}

resource "google_compute_router_nat" "core__nat" {
  name                               = "core-nat"
  router                             = google_compute_router.core__router.name
  region                             = "europe-west1"
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

resource "google_compute_global_address" "core__private_services" {
  name          = "core-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 16
  network       = google_compute_network.core.id
}

resource "google_service_networking_connection" "core__private_services" {
  network                 = google_compute_network.core.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.core__private_services.name]
}
