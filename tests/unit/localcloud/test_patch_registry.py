"""The local-cloud patch registry: declarations, moto's signatures adapted, one install."""

from __future__ import annotations

import sys
import types
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from meshlink.localcloud import patches
from meshlink.localcloud.patches import registry

ACCOUNT = "123456789012"
REGION = "eu-west-1"


@pytest.fixture()
def module(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, importable module name to declare entries under."""
    name = f"fake_patches_{uuid.uuid4().hex}"
    monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    return name


def declared(module: str, decorator: Callable[[Any], Any], function: Any) -> Any:
    function.__module__ = module
    return decorator(function)


class Model:
    """Stands in for a moto CloudFormationModel."""

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> tuple[str, ...]:
        return ("moto", resource_name, str(cloudformation_json), account_id, region_name)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"


def models() -> tuple[type[Model], type[Model]]:
    """Two fresh subclasses, so that no test sees another's patches."""
    return type("A", (Model,), {}), type("B", (Model,), {})


def test_a_declaration_changes_nothing_until_installed(module: str) -> None:
    model, _ = models()
    original = model.__dict__.get("create_from_cloudformation_json")

    def create(properties: Any, backend: Any, call: registry.CfnCall) -> Any:
        return properties

    declared(module, registry.cfn(model, "create", backend="ecs"), create)

    assert [e.description for e in registry.entries(module)] == ["A.create (CloudFormation)"]
    assert model.__dict__.get("create_from_cloudformation_json") is original
    registry.install_modules([module])
    assert model.create_from_cloudformation_json(
        "r", {"Properties": {"X": 1}}, ACCOUNT, REGION
    ) == {"X": 1}


def test_create_gets_properties_the_right_backend_and_moto_s_own_create(module: str) -> None:
    from moto.ecs.models import ecs_backends

    model, _ = models()
    seen: list[Any] = []

    def create(properties: Any, backend: Any, call: registry.CfnCall) -> Any:
        seen.append((properties, backend, call.model, call.name, call.template))
        return call.moto({"Properties": {"Changed": True}})

    declared(module, registry.cfn(model, "create", backend="ecs"), create)
    registry.install_modules([module])

    result = model.create_from_cloudformation_json("Res", {"Type": "T"}, ACCOUNT, REGION)

    assert seen == [({}, ecs_backends[ACCOUNT][REGION], model, "Res", {"Type": "T"})]
    assert result == ("moto", "Res", "{'Properties': {'Changed': True}}", ACCOUNT, REGION)


def test_update_and_delete_get_the_current_resource_and_their_backend(module: str) -> None:
    from moto.ec2.models import ec2_backends

    model: Any = models()[0]
    seen: list[Any] = []

    def update(properties: Any, backend: Any, call: registry.CfnCall) -> Any:
        seen.append(("update", properties, backend, call.current, call.name))
        return call.current

    def delete(properties: Any, backend: Any, call: registry.CfnCall) -> None:
        seen.append(("delete", properties, backend, call.current, call.name))

    def on_delete(resource: Any, backend: Any) -> None:
        seen.append(("on_delete", resource, backend))

    declared(module, registry.cfn(model, "update", backend="ec2"), update)
    declared(module, registry.cfn(model, "delete", backend="ec2"), delete)
    declared(module, registry.on_delete(model, backend="ec2"), on_delete)
    registry.install_modules([module])

    ec2 = ec2_backends[ACCOUNT][REGION]
    current = model()
    template = {"Properties": {"A": "b"}}
    assert (
        model.update_from_cloudformation_json(current, "New", template, ACCOUNT, REGION) is current
    )  # type: ignore[attr-defined]
    model.delete_from_cloudformation_json("Old", template, ACCOUNT, REGION)  # type: ignore[attr-defined]
    current.delete(ACCOUNT, REGION)  # type: ignore[attr-defined]
    assert seen == [
        ("update", {"A": "b"}, ec2, current, "New"),
        ("delete", {"A": "b"}, ec2, None, "Old"),
        ("on_delete", current, ec2),
    ]
    with pytest.raises(TypeError, match="only passed on create"):
        registry.CfnCall(model, "x", {}).moto({})


def test_wrap_passes_the_original_and_keeps_a_classmethod_a_classmethod(module: str) -> None:
    model, other = models()

    def has_cfn_attr(original: Any, cls: Any, attr: str) -> bool:
        return attr == "Extra" or bool(original(cls, attr))

    def replaced(cls: Any, attr: str) -> bool:
        return True

    declared(module, registry.wrap(model, "has_cfn_attr"), has_cfn_attr)
    declared(module, registry.replace(other, "has_cfn_attr", as_=classmethod), replaced)
    registry.install_modules([module])

    assert isinstance(model.__dict__["has_cfn_attr"], classmethod)
    assert [model.has_cfn_attr(a) for a in ("Arn", "Extra", "Other")] == [True, True, False]
    assert registry.unwrapped(model, "has_cfn_attr") is Model.__dict__["has_cfn_attr"].__func__
    assert other.has_cfn_attr("Anything")


def test_install_is_idempotent(module: str) -> None:
    model, _ = models()
    runs: list[str] = []

    def count() -> None:
        runs.append("step")

    def attr(original: Any, cls: Any, attr: str) -> bool:
        return not original(cls, attr)

    declared(module, registry.step, count)
    declared(module, registry.wrap(model, "has_cfn_attr"), attr)
    registry.install_modules([module])
    patched = model.__dict__["has_cfn_attr"]
    registry.install_modules([module])

    assert runs == ["step"]
    assert model.__dict__["has_cfn_attr"] is patched
    assert model.has_cfn_attr("Other")
    assert module in registry.installed()


def test_cfn_model_makes_a_moto_model_under_the_given_module(module: str) -> None:
    from moto.core.common_models import CloudFormationModel

    class Thing:
        def is_created(self) -> bool:
            return True

    def create(properties: Any, backend: Any, call: registry.CfnCall) -> Any:
        return call.model()

    declared(module, registry.cfn_model("AWS::Test::Thing", module="moto.ec2.models.x"), Thing)
    declared(module, registry.cfn(Thing, "create", backend="ec2"), create)
    registry.install_modules([module])

    built = registry.resolve(Thing)
    assert issubclass(built, Thing) and issubclass(built, CloudFormationModel)
    assert built.__module__ == "moto.ec2.models.x"
    assert built.cloudformation_type() == "AWS::Test::Thing"
    assert isinstance(built.create_from_cloudformation_json("t", {}, ACCOUNT, REGION), built)


def test_backend_is_moto_s_per_account_per_region_backend() -> None:
    from moto.elbv2.models import elbv2_backends

    assert registry.backend("elbv2", ACCOUNT, REGION) is elbv2_backends[ACCOUNT][REGION]
    assert set(registry.BACKENDS) >= {"ec2", "ecs", "elbv2"}


def test_install_installs_every_listed_module_control_and_data_plane() -> None:
    assert "meshlink.localcloud.patches.endpoints" in patches.MODULES
    assert "meshlink.localcloud.dataplane.patches" in patches.MODULES
    assert len(set(patches.MODULES)) == len(patches.MODULES)

    patches.install()
    patches.install()

    assert registry.installed() >= set(patches.MODULES)
    for name in patches.MODULES:
        assert registry.entries(name), f"{name} declares nothing"
    from moto.ec2.models.vpcs import VPCEndPoint

    from meshlink.localcloud.dataplane import patches as dataplane_patches

    assert dataplane_patches.install is patches.install
    assert "adapter" in VPCEndPoint.create_from_cloudformation_json.__qualname__
