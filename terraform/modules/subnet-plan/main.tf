# The subnet carving shared by every meshlink network engine. It must produce exactly
# what meshlink.topology.addressing.plan_subnets computes: tier t (public=0, private=1,
# isolated=2), AZ a -> cidrsubnet(vpc_cidr, newbits, t * az_count + a).

terraform {
  required_version = ">= 1.6.0"
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC to carve."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be an IPv4 CIDR block such as 10.1.0.0/16."
  }
}

variable "az_count" {
  description = "Number of availability zones; each tier gets one subnet per zone."
  type        = number

  validation {
    condition     = var.az_count >= 1 && var.az_count <= 6 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 1 to 6."
  }
}

locals {
  tiers = ["public", "private", "isolated"]
  # Smallest number of extra prefix bits that gives every tier one subnet per AZ.
  newbits = max(1, ceil(log(length(local.tiers) * var.az_count, 2)))

  cidrs = {
    for tier_index, tier in local.tiers : tier => [
      for az in range(var.az_count) :
      cidrsubnet(var.vpc_cidr, local.newbits, tier_index * var.az_count + az)
    ]
  }
}

output "newbits" {
  description = "Extra prefix bits of every subnet relative to the VPC."
  value       = local.newbits
}

output "public" {
  description = "Public subnet CIDRs, one per AZ, in AZ order."
  value       = local.cidrs["public"]
}

output "private" {
  description = "Private subnet CIDRs, one per AZ, in AZ order."
  value       = local.cidrs["private"]
}

output "isolated" {
  description = "Isolated subnet CIDRs, one per AZ, in AZ order."
  value       = local.cidrs["isolated"]
}
