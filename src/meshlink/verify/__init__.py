"""`meshlink verify`: control-plane checks and traffic probes over a deployed mesh.

* :mod:`meshlink.verify.model` - what a check result and a report are (no AWS).
* :mod:`meshlink.verify.context` - what the checks read: journal outputs, cached API calls.
* :mod:`~meshlink.verify.control_stacks`, :mod:`~meshlink.verify.control_privatelink`,
  :mod:`~meshlink.verify.control_network` - the control-plane checks.
* :mod:`meshlink.verify.probes` / :mod:`meshlink.verify.traffic` - ECS RunTask probes.
* :mod:`meshlink.verify.runner` - :func:`~meshlink.verify.runner.verify`, the one entry point.
* :mod:`meshlink.verify.report` - JSON (docs/verify-json.md), JUnit, the saved last result.

Light to import: boto3 is only imported by the code that calls AWS.
"""
