"""The quota values applied in each account (`service-quotas:GetServiceQuota`).

On `target: aws` an account may have had a quota raised; its applied value replaces
AWS's default. A quota Service Quotas does not track for the account answers
NoSuchResourceException: its default applies. Values are read once per account and
quota code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from meshlink.quotas.limits import Quota

# Answers that leave a quota unread (the default applies, and the caller says so).
UNREADABLE = frozenset({"AccessDeniedException", "NoAvailableOrganizationException"})

# (account key) -> a boto3 service-quotas client acting in that account
ClientFor = Callable[[str], Any]


class AppliedLimits:
    """A `Limits` function that asks each account's Service Quotas (cached)."""

    def __init__(self, client_for: ClientFor):
        self._client_for = client_for
        self._values: dict[tuple[str, str], tuple[int, bool]] = {}
        self._lock = threading.Lock()
        # account -> why its values could not be read (its defaults were used)
        self.unread: dict[str, str] = {}

    def __call__(self, account: str, quota: Quota) -> tuple[int, bool]:
        if quota.code is None or quota.service_code is None:
            return quota.default, False
        key = (account, quota.code)
        with self._lock:
            if key not in self._values:
                self._values[key] = self._read(account, quota)
            return self._values[key]

    def _read(self, account: str, quota: Quota) -> tuple[int, bool]:
        client = self._client_for(account)
        try:
            answer = client.get_service_quota(ServiceCode=quota.service_code, QuotaCode=quota.code)
        except Exception as exc:  # botocore's ClientError, without importing botocore
            code = _error_code(exc)
            if code == "NoSuchResourceException":
                return quota.default, False
            if code in UNREADABLE:
                # A role without service-quotas:GetServiceQuota: AWS's default, said.
                self.unread.setdefault(account, f"{code}: {exc}")
                return quota.default, False
            raise
        return int(answer["Quota"]["Value"]), True


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None
