terraform {
  backend "s3" {
    bucket  = "shop-tf-state"
    key     = "shop/terraform.tfstate"
    region  = "us-east-1"
    encrypt = true
  }
}
