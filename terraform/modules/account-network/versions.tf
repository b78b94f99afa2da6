terraform {
  required_version = ">= 1.9.0" # cross-variable validation (az_ids vs az_count)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}
