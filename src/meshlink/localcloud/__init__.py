"""The local cloud: moto plus meshlink's additions, run as one background process.

Public entry points:

* :mod:`meshlink.localcloud.daemon` — ``start``, ``ensure_running``, ``require_running``,
  ``stop``, ``status``, ``find``, ``read_log``/``follow_log`` (library functions the CLI
  and ``meshlink up`` call).
* :mod:`meshlink.localcloud.info` — ``LocalCloudInfo``, ports and state-dir resolution.
* :mod:`meshlink.localcloud.admin` — ``register_route`` for ``/_meshlink/...`` routes.
* :mod:`meshlink.localcloud.server` — the process itself and the extension contract
  (``ServerContext``; the data plane's ``start(context)``).
* :mod:`meshlink.localcloud.patches` — what meshlink changes in moto 5.2.5.

Light to import: heavy modules (moto, werkzeug, boto3) are imported by the server
process and by the functions that need them.
"""
