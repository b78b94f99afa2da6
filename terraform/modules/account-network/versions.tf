terraform {
  required_version = ">= 1.9.0" # cross-variable validation (az_ids vs az_count)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0" # 5.x is what meshlink is tested with (5.100.0)
    }
  }
}
