# One account's network for a meshlink mesh: a VPC with public, private and isolated
# subnets in var.az_count availability zones (the zone ids in var.az_ids, or the
# account's first zones), NAT as configured, flow logs, and a default security group
# that admits nothing.

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:the subnets use the zone ids meshlink chose for the mesh (var.az_ids, checked by the postcondition below); this list only proves the account offers them
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) >= var.az_count
      error_message = "The region has fewer available zones than az_count asks for."
    }

    postcondition {
      condition     = var.az_ids == null ? true : length(setsubtract(var.az_ids, self.zone_ids)) == 0
      error_message = "This account does not offer every zone id in az_ids (or one is not an available, opt-in-free zone)."
    }
  }
}

module "subnets" {
  source = "../subnet-plan"

  vpc_cidr = var.vpc_cidr
  az_count = var.az_count
}

locals {
  # Zone names differ per account for the same physical zone; zone ids do not. With
  # az_ids the subnets are placed by id (every account of a mesh then shares its zones,
  # which PrivateLink needs); the names are only looked up for tags and outputs.
  by_zone_id = var.az_ids != null
  zone_names = zipmap(data.aws_availability_zones.available.zone_ids, data.aws_availability_zones.available.names)
  az_ids     = local.by_zone_id ? var.az_ids : slice(data.aws_availability_zones.available.zone_ids, 0, var.az_count)
  azs        = [for id in local.az_ids : local.zone_names[id]]

  nat_count = {
    none   = 0
    single = 1
    per_az = var.az_count
  }[var.nat_gateways]
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

# Taking over the default security group removes its allow-all rules.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-default-deny" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count = var.az_count

  vpc_id                  = aws_vpc.this.id
  cidr_block              = module.subnets.public[count.index]
  availability_zone       = local.by_zone_id ? null : local.azs[count.index]
  availability_zone_id    = local.by_zone_id ? local.az_ids[count.index] : null
  map_public_ip_on_launch = false

  tags = merge(var.tags, {
    Name                   = "${var.name}-public-${local.azs[count.index]}"
    "meshlink:subnet-tier" = "public"
  })
}

resource "aws_subnet" "private" {
  count = var.az_count

  vpc_id               = aws_vpc.this.id
  cidr_block           = module.subnets.private[count.index]
  availability_zone    = local.by_zone_id ? null : local.azs[count.index]
  availability_zone_id = local.by_zone_id ? local.az_ids[count.index] : null

  tags = merge(var.tags, {
    Name                   = "${var.name}-private-${local.azs[count.index]}"
    "meshlink:subnet-tier" = "private"
  })
}

resource "aws_subnet" "isolated" {
  count = var.az_count

  vpc_id               = aws_vpc.this.id
  cidr_block           = module.subnets.isolated[count.index]
  availability_zone    = local.by_zone_id ? null : local.azs[count.index]
  availability_zone_id = local.by_zone_id ? local.az_ids[count.index] : null

  tags = merge(var.tags, {
    Name                   = "${var.name}-isolated-${local.azs[count.index]}"
    "meshlink:subnet-tier" = "isolated"
  })
}

# Public subnets share one route table with a default route to the internet gateway.
resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = var.az_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"

  tags = merge(var.tags, { Name = "${var.name}-nat-${local.azs[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id

  tags = merge(var.tags, { Name = "${var.name}-${local.azs[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

# One private route table per AZ, so per_az NAT keeps traffic inside its zone and the
# route table ids line up with the AZs whatever the NAT choice.
resource "aws_route_table" "private" {
  count = var.az_count

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}" })
}

resource "aws_route" "private_nat" {
  count = local.nat_count > 0 ? var.az_count : 0

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.nat_gateways == "per_az" ? count.index : 0].id
}

resource "aws_route_table_association" "private" {
  count = var.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# Isolated subnets have no route out of the VPC at all.
resource "aws_route_table" "isolated" {
  count = var.az_count

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-isolated-${local.azs[count.index]}" })
}

resource "aws_route_table_association" "isolated" {
  count = var.az_count

  subnet_id      = aws_subnet.isolated[count.index].id
  route_table_id = aws_route_table.isolated[count.index].id
}
