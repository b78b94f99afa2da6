variable "name" {
  description = "Name prefix of every resource, usually <mesh>-<account>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.name))
    error_message = "name must start with a letter and contain only a-z, 0-9 and '-' (at most 63)."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC, from /16 to /24."
  type        = string

  validation {
    condition = (
      can(cidrhost(var.vpc_cidr, 0)) &&
      tonumber(split("/", var.vpc_cidr)[1]) >= 16 &&
      tonumber(split("/", var.vpc_cidr)[1]) <= 24
    )
    error_message = "vpc_cidr must be an IPv4 CIDR block from /16 to /24, e.g. 10.1.0.0/16."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread the subnets over."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 1 && var.az_count <= 6 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 1 to 6."
  }
}

variable "nat_gateways" {
  description = "NAT gateways for the private subnets: none, single (one shared) or per_az."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateways)
    error_message = "nat_gateways must be one of none, single, per_az."
  }
}

variable "flow_logs" {
  description = "Send VPC flow logs (all traffic) to CloudWatch Logs."
  type        = bool
  default     = true
}

variable "flow_log_retention_days" {
  description = "Days CloudWatch Logs keeps the flow logs."
  type        = number
  default     = 30

  validation {
    condition = contains(
      [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
      var.flow_log_retention_days
    )
    error_message = "flow_log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ...)."
  }
}

variable "tags" {
  description = "Tags added to every resource (merged with a Name tag per resource)."
  type        = map(string)
  default     = {}
}

variable "az_ids" {
  description = "Zone ids to place the subnets in, one per az_count, e.g. [\"use1-az1\", \"use1-az4\"]. Zone ids name the same physical zone in every account, so a mesh picks them once for all its accounts; null takes the account's first az_count zones."
  type        = list(string)
  default     = null

  # Cross-variable validation (var.az_count) needs Terraform 1.9 (versions.tf).
  validation {
    condition     = var.az_ids == null ? true : length(var.az_ids) == var.az_count
    error_message = "az_ids must list exactly az_count zone ids."
  }

  validation {
    condition     = var.az_ids == null ? true : alltrue([for id in var.az_ids : can(regex("^[a-z0-9]+-az[0-9]+$", id))])
    error_message = "az_ids must be zone ids such as use1-az1, not zone names such as us-east-1a."
  }

  validation {
    condition     = var.az_ids == null ? true : length(distinct(var.az_ids)) == length(var.az_ids)
    error_message = "az_ids must not name a zone twice."
  }
}

variable "aws_service_endpoints" {
  description = "AWS services to reach through VPC endpoints: ecr.api, ecr.dkr, logs, sts (interface endpoints with private DNS in the private subnets) and s3 (gateway endpoint on the private route tables). null: ecr.api, ecr.dkr, logs and s3 when nat_gateways is none (what Fargate needs to pull from ECR and ship logs), none otherwise; [] for none."
  type        = list(string)
  default     = null

  validation {
    condition     = var.aws_service_endpoints == null ? true : alltrue([for s in var.aws_service_endpoints : contains(["ecr.api", "ecr.dkr", "logs", "s3", "sts"], s)])
    error_message = "aws_service_endpoints may list only ecr.api, ecr.dkr, logs, s3 and sts."
  }

  validation {
    condition     = var.aws_service_endpoints == null ? true : length(distinct(var.aws_service_endpoints)) == length(var.aws_service_endpoints)
    error_message = "aws_service_endpoints must not name a service twice."
  }
}

variable "share_subnets_with" {
  description = "Account ids the private subnets are shared with through AWS RAM (a shared VPC: they run their resources in those subnets); [] shares nothing."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.share_subnets_with : can(regex("^[0-9]{12}$", id))])
    error_message = "share_subnets_with must list 12-digit AWS account ids."
  }
}

variable "share_name" {
  description = "Name of the RAM resource share of the private subnets (null: <name>-subnets)."
  type        = string
  default     = null
}
