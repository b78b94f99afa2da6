"""Small helpers shared by tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FIXTURES = REPO / "tests" / "fixtures"

VALID_YAML = """\
name: shop
region: us-east-1
accounts:
  users: { id: "111111111111", vpc_cidr: 10.1.0.0/16 }
  notify: { id: "222222222222", vpc_cidr: 10.2.0.0/16 }
services:
  user-service:
    account: users
    port: 8080
    consumes: [notification-service]
  notification-service:
    account: notify
    port: 8081
    consumes: [user-service]
"""
