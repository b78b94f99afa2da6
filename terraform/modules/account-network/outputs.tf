# The output contract every meshlink network engine produces identically
# (meshlink.engines.network_contract.NETWORK_OUTPUTS).

output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "azs" {
  description = "Availability zone names used, in subnet order: this account's names of az_ids (names differ per account)."
  value       = local.azs
}

output "az_ids" {
  description = "Availability zone ids used, in subnet order: var.az_ids when set (comparable across accounts)."
  value       = local.az_ids
}

output "public_subnet_ids" {
  description = "Public subnet ids, one per AZ, in AZ order."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnet ids (NAT egress when configured), one per AZ, in AZ order."
  value       = aws_subnet.private[*].id
}

output "isolated_subnet_ids" {
  description = "Isolated subnet ids (no route out of the VPC), one per AZ, in AZ order."
  value       = aws_subnet.isolated[*].id
}

output "private_route_table_ids" {
  description = "Route table ids of the private subnets, one per AZ, in AZ order."
  value       = aws_route_table.private[*].id
}
