# VPC endpoints to AWS services, so Fargate tasks in subnets without NAT can pull images
# from ECR and ship logs (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html):
# interface endpoints with private DNS in the private subnets, and the s3 gateway endpoint
# (ECR keeps image layers in S3) on the private route tables.

data "aws_region" "current" {}

locals {
  # null: what Fargate needs when there is no NAT, nothing otherwise (as meshlink's
  # network.aws_service_endpoints).
  service_endpoints = var.aws_service_endpoints != null ? var.aws_service_endpoints : (
    var.nat_gateways == "none" ? ["ecr.api", "ecr.dkr", "logs", "s3"] : []
  )
  gateway_services    = ["s3"]
  interface_endpoints = toset([for s in local.service_endpoints : s if !contains(local.gateway_services, s)])
  gateway_endpoints   = toset([for s in local.service_endpoints : s if contains(local.gateway_services, s)])
}

# HTTPS from the private subnets only (where the tasks run), not the whole VPC: the task
# security groups belong to later stacks, which a network cannot name. No egress rule:
# Terraform removes AWS's default allow-all one, and an endpoint never opens a connection.
resource "aws_security_group" "service_endpoints" {
  count = length(local.interface_endpoints) > 0 ? 1 : 0

  description = "${var.name}: HTTPS from the private subnets to AWS service endpoints"
  vpc_id      = aws_vpc.this.id

  dynamic "ingress" {
    for_each = module.subnets.private

    content {
      description = "HTTPS from private subnet ${ingress.key + 1}"
      protocol    = "tcp"
      from_port   = 443
      to_port     = 443
      cidr_blocks = [ingress.value]
    }
  }

  tags = merge(var.tags, { Name = "${var.name}-aws-endpoints" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoints

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.service_endpoints[0].id]

  tags = merge(var.tags, { Name = "${var.name}-aws-${replace(each.key, ".", "-")}" })
}

resource "aws_vpc_endpoint" "gateway" {
  for_each = local.gateway_endpoints

  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id

  tags = merge(var.tags, { Name = "${var.name}-aws-${replace(each.key, ".", "-")}" })
}
