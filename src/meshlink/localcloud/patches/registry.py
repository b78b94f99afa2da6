"""How a local-cloud patch declares what it changes in moto, and how it is applied.

A patch module only declares (see docs/ARCHITECTURE.md, "The local cloud"): importing
it changes nothing and imports no moto. :func:`install_modules` imports the modules of
:data:`meshlink.localcloud.patches.MODULES` in order and applies each module's entries
in the order they were declared, once per process.

* ``@cfn(Model, "create" | "update" | "delete", backend="ec2")``: a CloudFormation
  handler ``(properties, backend, call) -> resource``; the adapter turns it into moto's
  ``<action>_from_cloudformation_json`` classmethod.
* ``@on_delete(Model, backend=...)``: ``(resource, backend)``, moto's ``delete(account, region)``.
* ``@replace(owner, name, as_=...)``: the function (or ``as_(function)``) replaces it.
* ``@wrap(owner, name)``: ``(original, *args)``; a classmethod/staticmethod stays one.
* ``@cfn_model(type, module=...)``: a :class:`NewModel` subclass becomes a new moto
  CloudFormationModel.
* ``@step``: anything else, run once at install.

An owner is a class, a module path (``"moto.cloudformation.parsing"``) or
``"module:Class"``; it is resolved at install, so moto stays unimported until then.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

Properties = dict[str, Any]
Owner = str | type
CfnAction = Literal["create", "update", "delete"]
F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

BACKENDS = {
    "applicationautoscaling": "moto.applicationautoscaling.models:applicationautoscaling_backends",
    "cloudwatch": "moto.cloudwatch.models:cloudwatch_backends",
    "ec2": "moto.ec2.models:ec2_backends",
    "ecs": "moto.ecs.models:ecs_backends",
    "elbv2": "moto.elbv2.models:elbv2_backends",
    "ram": "moto.ram.models:ram_backends",
    "sts": "moto.sts.models:sts_backends",
}


@dataclass(frozen=True)
class CfnCall:
    """What moto passed to a CloudFormation handler besides properties and backend."""

    model: Any  # the class moto called (``cls``)
    name: str  # resource_name; on update, new_resource_name
    template: dict[str, Any]  # the resource's JSON (Type, Properties, ...)
    current: Any = None  # on update: the resource being updated
    moto: Callable[[dict[str, Any]], Any] = field(default=lambda _: _no_moto(), compare=False)
    """On create: moto's own create, called with a template (e.g. ``call.template``)."""


def _no_moto() -> Any:
    raise TypeError("moto's own handler is only passed on create")


CfnHandler = Callable[[Properties, Any, CfnCall], Any]


@dataclass(frozen=True)
class Entry:
    """One declared change: ``apply`` makes it at install."""

    module: str
    description: str
    apply: Callable[[], None]


_ENTRIES: dict[str, list[Entry]] = {}
_MODELS: dict[type, type] = {}  # declared class -> moto model (also keeps it alive)
_installed: set[str] = set()
_lock = threading.Lock()


def backend(service: str, account_id: str, region: str) -> Any:
    """moto's backend of `service` (a :data:`BACKENDS` key) for one account and region."""
    return resolve(BACKENDS[service])[account_id][region]


def resolve(owner: Owner) -> Any:
    """The class or module `owner` names (a declared :func:`cfn_model` gives its moto model)."""
    if isinstance(owner, type):
        return _MODELS.get(owner, owner)
    module, _, dotted = owner.partition(":")
    found: Any = importlib.import_module(module)
    for part in filter(None, dotted.split(".")):
        found = getattr(found, part)
    return found


def entries(module: str) -> list[Entry]:
    """What `module` declared, in order."""
    return list(_ENTRIES.get(module, []))


def installed() -> set[str]:
    """Modules whose entries have been applied in this process."""
    return set(_installed)


def install_modules(modules: Iterable[str]) -> None:
    """Import each module and apply its entries, unless that was done already."""
    with _lock:
        fresh = [name for name in modules if name not in _installed]
        for name in fresh:
            importlib.import_module(name)
            for entry in _ENTRIES.get(name, []):
                entry.apply()
            _installed.add(name)
        if fresh:
            _refresh_model_cache()


def _declare(module: str, description: str, apply: Callable[[], None]) -> None:
    _ENTRIES.setdefault(module, []).append(Entry(module, description, apply))


def _describe(owner: Owner, name: str) -> str:
    return f"{owner if isinstance(owner, str) else owner.__qualname__}.{name}"


# -- attributes ------------------------------------------------------------------------------


def replace(
    owner: Owner, name: str, *, as_: Callable[[Any], Any] | None = None
) -> Callable[[F], F]:
    """Declare: attribute `name` of `owner` becomes the function (or ``as_(function)``)."""

    def declare(function: F) -> F:
        value = function if as_ is None else as_(function)
        _declare(
            function.__module__,
            _describe(owner, name),
            lambda: setattr(resolve(owner), name, value),
        )
        return function

    return declare


def wrap(owner: Owner, name: str) -> Callable[[F], F]:
    """Declare: the function replaces `name`, called as ``function(original, *args)``."""

    def declare(function: F) -> F:
        def apply() -> None:
            target = resolve(owner)
            setattr(target, name, wrapped(inspect.getattr_static(target, name), function))

        _declare(function.__module__, _describe(owner, name), apply)
        return function

    return declare


def wrapped(original: Any, function: Callable[..., Any]) -> Any:
    """`function` called with the original first, as the same kind of attribute.

    The result's ``__wrapped__`` is the original (see :func:`unwrapped`).
    """
    kind = type(original) if isinstance(original, classmethod | staticmethod) else None
    inner = original.__func__ if kind is not None else original

    def patched(*args: Any, **kwargs: Any) -> Any:
        return function(inner, *args, **kwargs)

    patched.__name__ = getattr(function, "__name__", "patched")
    patched.__wrapped__ = inner  # type: ignore[attr-defined]
    return kind(patched) if kind is not None else patched


def unwrapped(owner: Owner, name: str) -> Any:
    """What :func:`wrap` replaced (the attribute itself when it is not wrapped)."""
    current = inspect.getattr_static(resolve(owner), name)
    inner = getattr(current, "__func__", current)
    return getattr(inner, "__wrapped__", inner)


# -- CloudFormation --------------------------------------------------------------------------


def cfn(owner: Owner, action: CfnAction, *, backend: str) -> Callable[[F], F]:
    """Declare the CloudFormation `action` of model `owner`: ``(properties, backend, call)``."""

    def declare(handler: F) -> F:
        def apply() -> None:
            model = resolve(owner)
            moto = inspect.getattr_static(model, f"{action}_from_cloudformation_json", None)
            adapter = _ADAPTERS[action](handler, backend, getattr(moto, "__func__", moto))
            setattr(model, f"{action}_from_cloudformation_json", classmethod(adapter))

        _declare(handler.__module__, _describe(owner, f"{action} (CloudFormation)"), apply)
        return handler

    return declare


def on_delete(owner: Owner, *, backend: str) -> Callable[[F], F]:
    """Declare how a resource of `owner` leaves with its stack: ``(resource, backend)``."""

    def declare(handler: F) -> F:
        def delete(self: Any, account_id: str, region_name: str) -> None:
            handler(self, _backend(backend, account_id, region_name))

        _declare(
            handler.__module__,
            _describe(owner, "delete"),
            lambda: setattr(resolve(owner), "delete", delete),
        )
        return handler

    return declare


def _backend(service: str, account_id: str, region: str) -> Any:
    return backend(service, account_id, region)


def _properties(cloudformation_json: Any) -> Properties:
    properties: Properties = cloudformation_json.get("Properties") or {}
    return properties


def _handle(handler: CfnHandler, service: str, call: CfnCall, account_id: str, region: str) -> Any:
    return handler(_properties(call.template), _backend(service, account_id, region), call)


def _create_adapter(handler: CfnHandler, service: str, moto: Any) -> Callable[..., Any]:
    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        def moto_create(template: dict[str, Any]) -> Any:
            return moto(cls, resource_name, template, account_id, region_name, **kwargs)

        call = CfnCall(cls, resource_name, cloudformation_json, moto=moto_create)
        return _handle(handler, service, call, account_id, region_name)

    return create_from_cloudformation_json


def _update_adapter(handler: CfnHandler, service: str, moto: Any) -> Callable[..., Any]:
    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        call = CfnCall(cls, new_resource_name, cloudformation_json, current=original_resource)
        return _handle(handler, service, call, account_id, region_name)

    return update_from_cloudformation_json


def _delete_adapter(handler: CfnHandler, service: str, moto: Any) -> Callable[..., Any]:
    def delete_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        _handle(
            handler,
            service,
            CfnCall(cls, resource_name, cloudformation_json),
            account_id,
            region_name,
        )

    return delete_from_cloudformation_json


_ADAPTERS: dict[CfnAction, Callable[[CfnHandler, str, Any], Callable[..., Any]]] = {
    "create": _create_adapter,
    "update": _update_adapter,
    "delete": _delete_adapter,
}


class NewModel:
    """Base of a :func:`cfn_model` class: an id ``<ID_PREFIX>-<17 hex>``, created at once,
    and at most one ``Fn::GetAtt`` attribute, `CFN_ATTRIBUTE`, read from the instance's
    `CFN_ATTRIBUTE_FROM` field."""

    ID_PREFIX = "res"
    CFN_ATTRIBUTE: str | None = None
    CFN_ATTRIBUTE_FROM = "id"

    def __init__(self) -> None:
        from moto.moto_api._internal import mock_random

        self.id = f"{self.ID_PREFIX}-{mock_random.get_random_hex(length=17)}"

    @property
    def physical_resource_id(self) -> str:
        return self.id

    def is_created(self) -> bool:
        return True

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == cls.CFN_ATTRIBUTE

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return str(getattr(self, self.CFN_ATTRIBUTE_FROM))


def cfn_model(cfn_type: str, *, module: str) -> Callable[[C], C]:
    """Declare a resource type moto lacks: at install, the class (first base) and moto's
    ``CloudFormationModel`` make the model; moto's metaclass files it under `module`
    (``moto.<service>.…``). Its handlers are declared with :func:`cfn` / :func:`on_delete`.
    """

    def declare(cls: C) -> C:
        def apply() -> None:
            from moto.core.common_models import CloudFormationModel

            namespace = {
                "__module__": module,
                "__doc__": cls.__doc__,
                "cloudformation_type": staticmethod(lambda: cfn_type),
                "cloudformation_name_type": staticmethod(lambda: ""),
            }
            meta: Any = type(CloudFormationModel)
            _MODELS[cls] = meta(cls.__name__, (cls, CloudFormationModel), namespace)

        _declare(cls.__module__, f"{cfn_type} (new model)", apply)
        return cls

    return declare


# -- anything else ---------------------------------------------------------------------------


def step(function: F) -> F:
    """Declare a function to run once at install (a change that is not an attribute)."""
    _declare(function.__module__, function.__qualname__, function)
    return function


def _refresh_model_cache() -> None:
    # moto caches the CloudFormation model list: new models and types must be seen.
    from moto.cloudformation import parsing

    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
