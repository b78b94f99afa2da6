"""One botocore client class per service and model loader, not one per client.

botocore builds a client's class on every ``create_client``: a method per operation
(ec2 has about 700), about 40 ms for ec2 alone. A run makes one client per account and
service, so a 16-service no-op `up` over 8 accounts built ec2's class 8 times. The
sessions of a :class:`meshlink.aws.sessions.SessionFactory` share one model loader and
register the same class-creation handlers (boto3's), so the classes they would build are
the same: the first is kept, per loader, and reused. A client's state (credentials,
endpoint, event hooks) lives in its instance, never in its class.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

_lock = threading.Lock()
_classes: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], type]] = weakref.WeakKeyDictionary()


def install() -> None:
    """Wrap ``ClientCreator._create_client_class`` once per process."""
    from botocore.client import ClientCreator

    original = getattr(ClientCreator, "_create_client_class")  # noqa: B009  # private
    if getattr(original, "__meshlink_cached__", False):
        return

    def create_client_class(self: Any, service_name: str, service_model: Any) -> type:
        key = (service_name, str(service_model.api_version))
        with _lock:
            known = _classes.setdefault(self._loader, {}).get(key)
        if known is not None:
            return known
        built: type = original(self, service_name, service_model)
        with _lock:
            return _classes[self._loader].setdefault(key, built)

    create_client_class.__meshlink_cached__ = True  # type: ignore[attr-defined]
    setattr(ClientCreator, "_create_client_class", create_client_class)  # noqa: B010
