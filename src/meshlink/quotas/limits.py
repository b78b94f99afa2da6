"""The AWS quotas a mesh can run into, with their Service Quotas codes and defaults.

Sources (read 2026-12-02):
* https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html
* https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html
* https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
* https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
"""

from __future__ import annotations

from dataclasses import dataclass

RAISE = (
    "request an increase in the Service Quotas console (Service Quotas > AWS services > "
    "{service} > {name}) or with: aws service-quotas request-service-quota-increase "
    "--service-code {service_code} --quota-code {code} --desired-value <n>"
)


@dataclass(frozen=True)
class Quota:
    """One quota: what Service Quotas calls it, its code and AWS's default value."""

    key: str
    name: str
    service: str  # the console's name of the service
    service_code: str | None  # Service Quotas' service code (None: not in Service Quotas)
    code: str | None  # L-xxxxxxxx (None: not in Service Quotas)
    default: int
    adjustable: bool
    per: str  # what one count is taken over: "VPC", "Region", "NLB", ...
    counts: str = ""  # what is counted, e.g. "NLBs"
    otherwise: str = ""  # what to do when it cannot be raised
    raise_name: str = ""  # the quota to raise, when another one bounds this one

    def label(self) -> str:
        return f"{self.name} ({self.code})" if self.code else self.name

    def how_to_raise(self) -> str:
        if self.adjustable and self.code and self.service_code:
            return RAISE.format(
                service=self.service,
                name=self.raise_name or self.name,
                service_code=self.service_code,
                code=self.code,
            )
        return self.otherwise


QUOTAS: dict[str, Quota] = {
    quota.key: quota
    for quota in (
        Quota(
            "interface_endpoints_per_vpc",
            "Interface VPC endpoints per VPC",
            "Amazon Virtual Private Cloud (Amazon VPC)",
            "vpc",
            "L-29B6F2EB",
            50,
            True,
            "VPC",
            counts="interface endpoints",
        ),
        Quota(
            "nlbs_per_region",
            "Network Load Balancers per Region",
            "Elastic Load Balancing (ELB)",
            "elasticloadbalancing",
            "L-69A177A2",
            50,
            True,
            "Region",
            counts="NLBs",
        ),
        Quota(
            "endpoint_services_per_region",
            # AWS's PrivateLink quotas list no quota of their own for endpoint services;
            # each needs an NLB of its own, so L-69A177A2 bounds them.
            "VPC endpoint services per Region",
            "Elastic Load Balancing (ELB)",
            "elasticloadbalancing",
            "L-69A177A2",
            50,
            True,
            "Region",
            counts="endpoint services",
            raise_name="Network Load Balancers per Region",
        ),
        Quota(
            "listeners_per_nlb",
            "Listeners per Network Load Balancer",
            "Elastic Load Balancing (ELB)",
            "elasticloadbalancing",
            "L-57A373D6",
            50,
            False,
            "NLB",
            counts="listeners",
            otherwise="AWS does not raise it: split the service's ports across services",
        ),
        Quota(
            "rules_per_security_group",
            "Inbound or outbound rules per security group",
            "Amazon Virtual Private Cloud (Amazon VPC)",
            "vpc",
            "L-0EA8095F",
            60,
            True,
            "security group",
            counts="rules",
        ),
        Quota(
            "template_body_bytes",
            "Template body size in a request",
            "AWS CloudFormation",
            None,
            None,
            51_200,
            False,
            "template",
            counts="bytes",
            otherwise="AWS does not raise it: deploy the template from S3 (TemplateURL, up to "
            "1 MB) or split the stack",
        ),
    )
}
