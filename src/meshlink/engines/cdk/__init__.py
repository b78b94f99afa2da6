"""The CDK engine: in-process synthesis and a CloudFormation change-set deployer.

Submodules import aws_cdk / boto3 lazily so that importing this package stays cheap.
"""
