"""Who is calling: the account and (assumed) role ARN of the request being served.

moto resolves the account from the access key but forgets the role; PrivateLink's
allowed-principal check needs both. Set per request (thread-local) when moto's
response object is set up, so code deep inside moto (CloudFormation creating an
endpoint) sees the caller of the API request that triggered it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from meshlink.localcloud.patches.registry import backend, wrap

_local = threading.local()


@dataclass(frozen=True)
class Caller:
    account_id: str
    role_arn: str | None = None

    @property
    def root_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    def principals(self) -> set[str]:
        """ARNs that, if allowed on an endpoint service, admit this caller."""
        found = {self.root_arn}
        if self.role_arn:
            found.add(self.role_arn)
        return found


def current_caller(default_account: str | None = None) -> Caller | None:
    """The caller of the request this thread serves (None outside a request)."""
    caller: Caller | None = getattr(_local, "caller", None)
    if caller is None and default_account is not None:
        return Caller(default_account)
    if caller is not None and default_account is not None and caller.account_id != default_account:
        return Caller(default_account)
    return caller


def set_caller(caller: Caller | None) -> None:
    _local.caller = caller


def _resolve(response: Any) -> Caller:
    account_id = str(response.current_account)
    role_arn = None
    try:
        assumed = backend("sts", account_id, "aws").get_assumed_role_from_access_key(
            response.access_key
        )
    except Exception:
        assumed = None
    if assumed is not None:
        role_arn = str(assumed.role_arn)
    return Caller(account_id, role_arn)


@wrap("moto.core.responses:BaseResponse", "setup_class")
def _setup_class(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    result = original(self, *args, **kwargs)
    try:
        set_caller(_resolve(self))
    except Exception:
        set_caller(None)
    return result
