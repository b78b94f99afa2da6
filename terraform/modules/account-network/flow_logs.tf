# VPC flow logs (all traffic) to a CloudWatch Logs group the module owns.

locals {
  flow_log_count = var.flow_logs ? 1 : 0
}

variable "log_kms_key_arn" {
  description = "Customer managed KMS key (ARN) for the flow-log group (topology logs.kms_key_arn); null: CloudWatch Logs' own encryption."
  type        = string
  default     = null
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  #checkov:skip=CKV_AWS_158:encrypted with var.log_kms_key_arn when the topology names a key (its key policy must admit CloudWatch Logs); otherwise CloudWatch Logs encrypts at rest with its own keys
  #checkov:skip=CKV_AWS_338:retention is the user's choice (network.flow_log_retention_days, 30 days by default): a year of flow logs is a cost meshlink does not impose
  count = local.flow_log_count

  name              = "/meshlink/${var.name}/vpc-flow-logs"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = merge(var.tags, { Name = "${var.name}-vpc-flow-logs" })
}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    # Only flow logs of this account may use the role (confused-deputy guard).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  count = local.flow_log_count

  name_prefix        = "${substr(var.name, 0, 24)}-flow-logs-"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json

  tags = merge(var.tags, { Name = "${var.name}-flow-logs" })
}

data "aws_iam_policy_document" "flow_logs_write" {
  count = local.flow_log_count

  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_logs[0].arn,
      "${aws_cloudwatch_log_group.flow_logs[0].arn}:*",
    ]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  count = local.flow_log_count

  name   = "write-vpc-flow-logs"
  role   = aws_iam_role.flow_logs[0].id
  policy = data.aws_iam_policy_document.flow_logs_write[0].json
}

resource "aws_flow_log" "this" {
  count = local.flow_log_count

  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs[0].arn
  iam_role_arn         = aws_iam_role.flow_logs[0].arn

  # The role ARN alone orders the flow log after the role, not after its permissions:
  # without this, the flow log can be created before the role may write to the group.
  depends_on = [aws_iam_role_policy.flow_logs]

  tags = merge(var.tags, { Name = "${var.name}-vpc-flow-logs" })
}
