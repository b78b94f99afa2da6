# A shared network (meshlink network.mode: shared): the private subnets are shared with
# the mesh's other accounts through AWS RAM. They run their tasks, NLBs and endpoint
# services in those subnets; the VPC, its routes and every interface endpoint stay this
# account's (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html).
# AWS shares subnets only with accounts of this account's organization, and only once
# RAM sharing with the organization is enabled ("You must enable resource sharing from
# the management account"); they get the subnets at once, without an invitation. Any
# other account is refused (InvalidParameterException).

locals {
  sharing = length(var.share_subnets_with) > 0
}

resource "aws_ram_resource_share" "subnets" {
  count = local.sharing ? 1 : 0

  name                      = coalesce(var.share_name, "${var.name}-subnets")
  allow_external_principals = true

  tags = merge(var.tags, { Name = "${var.name}-subnets" })
}

resource "aws_ram_resource_association" "private" {
  count = local.sharing ? var.az_count : 0

  resource_arn       = aws_subnet.private[count.index].arn
  resource_share_arn = aws_ram_resource_share.subnets[0].arn
}

resource "aws_ram_principal_association" "participants" {
  for_each = toset(var.share_subnets_with)

  principal          = each.value
  resource_share_arn = aws_ram_resource_share.subnets[0].arn
}
