terraform {
  required_version = ">= 1.0.0"

  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

resource "null_resource" "network__core" {
  triggers = {
    description = ""
    name        = "core"
  }
}

resource "null_resource" "network__core__settings" {
  triggers = {
    cidr      = "10.20.0.0/16"
    encrypted = "true"
    region    = "europe-west1"
    tags      = "{\"env\":\"prod\",\"team\":\"platform\"}"
  }
  depends_on = [null_resource.network__core]
}

resource "null_resource" "network__core__subnet__app" {
  triggers = {
    name    = "app"
    region  = "europe-west1"
    network = "core"
  }
}

resource "null_resource" "network__core__subnet__app__settings" {
  triggers = {
    cidr = "10.20.1.0/24"
  }
  depends_on = [null_resource.network__core__subnet__app]
}

resource "null_resource" "network__core__subnet__data" {
  triggers = {
    name    = "data"
    region  = "europe-west1"
    network = "core"
  }
}

resource "null_resource" "network__core__subnet__data__settings" {
  triggers = {
    cidr = "10.20.2.0/24"
  }
  depends_on = [null_resource.network__core__subnet__data]
}

resource "null_resource" "vm__web-1" {
  triggers = {
    description = "Front end — \"blue\" $${env} 100%%{x}"
    disk_gb     = "30"
    encrypted   = "true"
    name        = "web-1"
    network     = "core"
    region      = "europe-west1"
  }
}

resource "null_resource" "vm__web-1__settings" {
  triggers = {
    machine_type = "e2-standard-2"
    public_ip    = "false"
    tags         = "{\"env\":\"prod\",\"team\":\"platform\"}"
  }
  depends_on = [null_resource.vm__web-1]
}

resource "null_resource" "database__orders-db" {
  triggers = {
    engine  = "postgres"
    name    = "orders-db"
    network = "core"
    region  = "europe-west1"
  }
}

resource "null_resource" "database__orders-db__settings" {
  triggers = {
    backup_retention_days = "7"
    deletion_protection   = "true"
    description           = ""
    encrypted             = "true"
    high_availability     = "false"
    storage_gb            = "20"
    tags                  = "{\"env\":\"prod\",\"team\":\"platform\"}"
  }
  depends_on = [null_resource.database__orders-db]
}

resource "null_resource" "bucket__assets-ce" {
  triggers = {
    name   = "assets-ce"
    region = "europe-west1"
  }
}

resource "null_resource" "bucket__assets-ce__settings" {
  triggers = {
    description    = ""
    encrypted      = "true"
    public_access  = "false"
    retention_days = "30"
    storage_class  = "STANDARD"
    storage_gb     = "50"
    tags           = "{\"env\":\"prod\",\"team\":\"platform\"}"
    versioning     = "true"
  }
  depends_on = [null_resource.bucket__assets-ce]
}

resource "null_resource" "firewall__web-fw" {
  triggers = {
    name    = "web-fw"
    network = "core"
  }
}

resource "null_resource" "firewall__web-fw__settings" {
  triggers = {
    description = "Front end — \"blue\" $${env} 100%%{x}"
    encrypted   = "true"
    region      = "europe-west1"
    rules       = "[{\"action\":\"allow\",\"direction\":\"ingress\",\"ports\":[80,443,\"8000-8080\"],\"protocol\":\"tcp\",\"sources\":[\"10.0.0.0/8\"]},{\"action\":\"allow\",\"direction\":\"ingress\",\"ports\":[22],\"protocol\":\"tcp\",\"sources\":[\"10.20.0.0/16\"]},{\"action\":\"allow\",\"direction\":\"egress\",\"ports\":[],\"protocol\":\"all\",\"sources\":[\"0.0.0.0/0\"]}]"
    tags        = "{\"env\":\"prod\",\"team\":\"platform\"}"
  }
  depends_on = [null_resource.firewall__web-fw]
}

resource "null_resource" "k8s_cluster__apps" {
  triggers = {
    description   = ""
    name          = "apps"
    network       = "core"
    private_nodes = "true"
    region        = "europe-west1"
  }
}

resource "null_resource" "k8s_cluster__apps__settings" {
  triggers = {
    encrypted          = "true"
    kubernetes_version = "1.30"
    node_count         = "2"
    tags               = "{\"env\":\"prod\",\"team\":\"platform\"}"
  }
  depends_on = [null_resource.k8s_cluster__apps]
}
