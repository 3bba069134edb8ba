terraform {
  backend "gcs" {
    bucket = "shop-tf-state"
    prefix = "projects/shop"
  }
}
