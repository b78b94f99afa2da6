"""The server's lighter dispatch answers what moto's own lookups answered."""

from __future__ import annotations

import inspect


def test_lookups_answer_the_same_once_and_for_all() -> None:
    import moto.backends
    import moto.core.errors
    import moto.core.responses
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.utils import get_service_model

    from meshlink.localcloud import server

    listed = list(moto.backends.list_of_moto_modules())
    methods = [name for name, _ in inspect.getmembers(CloudFormationResponse, inspect.isfunction)]
    service = get_service_model("cloudformation")
    fresh = (
        moto.core.errors.ErrorLookupFactory().for_service(service).from_code("ChangeSetNotFound")
    )

    server._lighter_dispatch()

    assert list(moto.backends.list_of_moto_modules()) == listed
    assert "cloudformation" in moto.backends.list_of_moto_modules()
    lookup: object = moto.core.responses.method_names_from_class
    assert moto.core.responses.method_names_from_class(CloudFormationResponse) == methods
    assert hasattr(lookup, "cache_info") and lookup.cache_info().hits == 0  # type: ignore[attr-defined]
    moto.core.responses.method_names_from_class(CloudFormationResponse)
    assert lookup.cache_info().hits == 1  # type: ignore[attr-defined]
    first = moto.core.errors.ErrorLookupFactory()
    table = first.for_service(service)
    # A new factory (moto makes one per error response) finds the table already built.
    assert moto.core.errors.ErrorLookupFactory().for_service(service) is table
    shape = table.from_code("ChangeSetNotFound")
    assert shape is not None and fresh is not None
    assert (shape.name, shape.error_code) == (fresh.name, fresh.error_code)
