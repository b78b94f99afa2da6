"""THE session factory: a boto3 session/client per (account, service), local or AWS.

* ``target="local"``: base credentials ``meshlink``/``meshlink`` against the local
  cloud's endpoint, then ``sts:AssumeRole`` into ``arn:aws:iam::<id>:role/<role>``;
  the returned credentials act in account ``<id>`` (any 12-digit id works).
* ``target="aws"``: the account's ``profile`` alone when it names no role; otherwise
  its ``role`` (default ``MeshlinkDeploy``) assumed from the profile, or from the default
  credential chain without one, refreshed before expiry (what the Terraform root does).
* Either target: a ``profile`` (AWS config/credentials files) replaces the base
  credentials, so on the local cloud a profile that names no role acts in the account
  the local cloud gives its keys (moto's default, 123456789012): a wrong account to stage.

Every AssumeRole's session name is ``meshlink-<mesh>-<operator>`` (``session_name``), so
CloudTrail tells one operator's runs of one mesh from another's.

Clients use botocore's ``adaptive`` retry mode (client-side rate limiting plus
jittered backoff on throttling). Sessions and clients are cached and thread-safe to get.
Every session of a factory shares one botocore model loader: a service's model (ec2's
is megabytes of JSON) is parsed once per run, not once per account; and each service's
client class is built once per loader (``client_classes.py``); ISO timestamps are read
without dateutil (``timestamps.py``). On the local target every account's clients come
from the one base session, each given its account's credentials.
"""

from __future__ import annotations

import getpass
import os
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from meshlink.errors import EnvironmentProblem, UsageError
from meshlink.topology.naming import default_role_arn

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

    from meshlink.topology.model import Account, Topology

Target = Literal["local", "aws"]
LOCAL_ACCESS_KEY = "meshlink"
LOCAL_SECRET_KEY = "meshlink"  # noqa: S105 - the local cloud's fixed, documented credentials
SESSION_NAME = "meshlink"
ASSUME_DURATION = 3600
# Connections per client: a 32-service mesh has ~100 nodes waiting on AWS at once.
POOL_CONNECTIONS = 64
# RoleSessionName: 2-64 of [\w+=,.@-]
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
SESSION_NAME_LIMIT = 64
_NOT_IN_SESSION_NAME = re.compile(r"[^\w+=,.@-]+", re.ASCII)


def operator() -> str:
    """Who runs meshlink: $MESHLINK_OPERATOR, else the login name ("unknown" if none)."""
    name = os.environ.get("MESHLINK_OPERATOR", "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    return name


def session_name(mesh: str, user: str | None = None) -> str:
    """``meshlink-<mesh>-<user>``: disallowed characters become '-', cut to 64."""
    raw = f"meshlink-{mesh}-{user if user is not None else operator()}"
    return _NOT_IN_SESSION_NAME.sub("-", raw)[:SESSION_NAME_LIMIT]


def assumes_role(account: Account | None) -> bool:
    """Whether meshlink assumes a role in `account` rather than use its profile as is.

    A profile alone means "these credentials are the account"; a named role, or
    ``principal: role`` (the identity the providers allow is the deploy role), is assumed
    on top of it, as the Terraform root does (engines/terraform/root.py).
    """
    if account is None or account.profile is None:
        return True
    return account.role is not None or account.principal == "role"


class SessionFactory:
    """Per-account boto3 sessions and clients for one target and region."""

    def __init__(
        self,
        target: Target,
        region: str,
        endpoint_url: str | None = None,
        accounts: Mapping[str, Account] | None = None,
        *,
        max_attempts: int = 10,
        session_name: str = SESSION_NAME,
    ):
        if target not in ("local", "aws"):
            raise UsageError(f"unknown target {target!r}", hint="use 'local' or 'aws'")
        if target == "local" and not endpoint_url:
            raise UsageError(
                "the local target needs the local cloud's endpoint URL",
                hint="pass meshlink.localcloud.daemon.ensure_running().endpoint_url",
            )
        self.target: Target = target
        self.region = region
        self.endpoint_url = endpoint_url if target == "local" else endpoint_url or None
        self.max_attempts = max_attempts
        self.session_name = session_name
        # Accounts are looked up by 12-digit id (the topology's keys are names).
        self._accounts: dict[str, Account] = {a.id: a for a in (accounts or {}).values()}
        self._lock = threading.RLock()
        # Per account id: the session its clients come from and the credentials they are
        # given (_source); a boto3 session of its own only when asked for (session).
        self._sources: dict[str, tuple[boto3.Session, dict[str, str]]] = {}
        self._source_locks: dict[str, threading.Lock] = {}
        self._sessions: dict[str, boto3.Session] = {}
        # Base sessions by profile (None: no profile) and their STS clients, by session.
        self._bases: dict[str | None, boto3.Session] = {}
        self._base_sts: dict[int, Any] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._creation_locks: dict[int, threading.Lock] = {}
        self._config: Config | None = None
        self._loader: Any = None
        # Per account id: the ARN AssumeRole answered for the session's credentials.
        self._assumed: dict[str, str] = {}

    @classmethod
    def for_topology(cls, topology: Topology, endpoint_url: str | None = None) -> SessionFactory:
        """A factory for the topology's target, region and accounts."""
        return cls(
            topology.target,
            topology.region,
            endpoint_url,
            topology.accounts,
            session_name=session_name(topology.name),
        )

    @property
    def config(self) -> Config:
        """botocore Config shared by every client: region and adaptive retries."""
        if self._config is None:
            from botocore.config import Config

            # The limit on AWS is each account's API rate (per service), not a count of
            # nodes: `up` runs every ready node at once and every thread of an account
            # shares its one client per service, so botocore's adaptive mode (a token
            # bucket per client that slows down on throttling errors, plus jittered
            # retries) paces that account. The pool admits that many threads at once.
            self._config = Config(
                region_name=self.region,
                retries={"mode": "adaptive", "max_attempts": self.max_attempts},
                connect_timeout=10,
                read_timeout=120,
                max_pool_connections=POOL_CONNECTIONS,
            )
        return self._config

    def _botocore_session(self) -> Any:
        """A botocore session whose model loader is the factory's (models parsed once)."""
        import botocore.loaders
        import botocore.session

        from meshlink.aws import client_classes, timestamps

        with self._lock:
            if self._loader is None:
                client_classes.install()  # its sessions share client classes too
                self._loader = botocore.loaders.create_loader()
            core = botocore.session.Session()
            core.register_component("data_loader", self._loader)
            timestamps.install(core)
            return core

    def assumed_arn(self, account_id: str) -> str | None:
        """The identity the account's credentials act as, when they come from AssumeRole:
        its answer's AssumedRoleUser ARN (what GetCallerIdentity would say for them,
        https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html); None
        when no role is assumed (a profile's own credentials)."""
        self._source(account_id)
        with self._lock:
            return self._assumed.get(account_id)

    def role_arn(self, account_id: str) -> str:
        """The role meshlink assumes in `account_id` (the topology's, else MeshlinkDeploy)."""
        account = self._accounts.get(account_id)
        return default_role_arn(account_id, account.role if account else None)

    def session(self, account_id: str) -> boto3.Session:
        """A boto3 session acting in `account_id` (cached). `client` does not need one on
        the local target: its clients share the base session (`_source`)."""
        session, credentials = self._source(account_id)
        if not credentials:
            return session
        with self._lock:
            cached = self._sessions.get(account_id)
            if cached is None:
                import boto3

                cached = boto3.Session(
                    **credentials,
                    region_name=self.region,
                    botocore_session=self._botocore_session(),
                )
                self._sessions[account_id] = cached
            return cached

    def _source(self, account_id: str) -> tuple[boto3.Session, dict[str, str]]:
        """Where the account's clients come from: a session, and the credentials each
        client is given explicitly (none when the session's own act in the account).

        Made under the account's own lock: accounts assume their roles side by side.
        """
        with self._lock:
            cached = self._sources.get(account_id)
            if cached is not None:
                return cached
            account_lock = self._source_locks.setdefault(account_id, threading.Lock())
        with account_lock:
            with self._lock:
                cached = self._sources.get(account_id)
            if cached is None:
                cached = (
                    self._local_source(account_id)
                    if self.target == "local"
                    else (self._aws_session(account_id), {})
                )
                with self._lock:
                    self._sources[account_id] = cached
            return cached

    def client(self, account_id: str, service: str) -> Any:
        """A boto3 client for `service` in `account_id` (cached per account and service)."""
        key = (account_id, service)
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        session: Any
        session, credentials = self._source(account_id)
        kwargs: dict[str, Any] = {"config": self.config, "region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        kwargs.update(credentials)
        return self._made(self._clients, key, session, lambda: session.client(service, **kwargs))

    def _made(
        self, cache: dict[Any, Any], key: Any, session: boto3.Session, build: Callable[[], Any]
    ) -> Any:
        """`cache[key]`, built by `build` the first time: one creation per session at a
        time (a boto3 Session is not thread-safe), and none holds the factory's lock
        (building a client takes milliseconds; other threads' cached look-ups go on)."""
        with self._lock:
            cached = cache.get(key)
            if cached is not None:
                return cached
            creating = self._creation_locks.setdefault(id(session), threading.Lock())
        with creating:
            with self._lock:
                cached = cache.get(key)
            if cached is None:
                cached = build()
                with self._lock:
                    cache[key] = cached
            return cached

    # -- local -------------------------------------------------------------------------

    def base_session(self, account_id: str | None = None) -> boto3.Session:
        """The session before any AssumeRole: the account's profile when it has one, else
        (local) meshlink/meshlink or (aws) the default credential chain."""
        import boto3

        account = self._accounts.get(account_id) if account_id else None
        if account is not None and account.profile:
            return boto3.Session(
                profile_name=account.profile,
                region_name=self.region,
                botocore_session=self._botocore_session(),
            )
        if self.target == "local":
            return boto3.Session(
                aws_access_key_id=LOCAL_ACCESS_KEY,
                aws_secret_access_key=LOCAL_SECRET_KEY,
                region_name=self.region,
                botocore_session=self._botocore_session(),
            )
        return boto3.Session(region_name=self.region, botocore_session=self._botocore_session())

    def _assume(self, account_id: str, base: boto3.Session) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {"config": self.config, "region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        role_arn = self.role_arn(account_id)
        try:
            sts = self._sts(base, kwargs)
            response = sts.assume_role(
                RoleArn=role_arn,
                RoleSessionName=self.session_name,
                DurationSeconds=ASSUME_DURATION,
            )
        except ClientError as error:
            raise EnvironmentProblem(
                f"cannot assume {role_arn}: {error}",
                hint="check that the role exists and trusts your credentials",
            ) from error
        except BotoCoreError as error:
            where = f"the local cloud at {self.endpoint_url}" if self.target == "local" else "STS"
            hint = (
                "start it with: meshlink local start"
                if self.target == "local"
                else "configure AWS credentials (aws configure, AWS_PROFILE, SSO login)"
            )
            raise EnvironmentProblem(f"cannot reach {where}: {error}", hint=hint) from error
        assumed = (response.get("AssumedRoleUser") or {}).get("Arn")
        if assumed:
            with self._lock:
                self._assumed[account_id] = str(assumed)
        credentials: dict[str, Any] = response["Credentials"]
        return credentials

    def _base(self, account_id: str) -> boto3.Session:
        """The base session roles are assumed from: one per profile (or none), shared by
        every account that has it."""
        account = self._accounts.get(account_id)
        key = account.profile if account is not None else None
        with self._lock:
            cached = self._bases.get(key)
            if cached is None:
                cached = self.base_session(account_id)
                self._bases[key] = cached
            return cached

    def _sts(self, base: boto3.Session, kwargs: dict[str, Any]) -> Any:
        """The STS client of `base`, made once (a client is safe to share between threads)."""
        maker: Any = base
        return self._made(self._base_sts, id(base), base, lambda: maker.client("sts", **kwargs))

    def _local_source(self, account_id: str) -> tuple[boto3.Session, dict[str, str]]:
        """The base session and, for an assumed role, its credentials: every account's
        clients come from one botocore session (a session registers ~140 event handlers
        as it starts: 5 ms each, 8 of them for a 16-service mesh's no-op `up`).
        Credentials last an hour; the local cloud does not expire them."""
        base = self._base(account_id)
        if not assumes_role(self._accounts.get(account_id)):
            return base, {}
        credentials = self._assume(account_id, base)
        return base, {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }

    # -- aws ---------------------------------------------------------------------------

    def _aws_session(self, account_id: str) -> boto3.Session:
        import boto3
        from botocore.credentials import RefreshableCredentials

        base = self._base(account_id)
        if not assumes_role(self._accounts.get(account_id)):
            return base

        def refresh() -> dict[str, str]:
            creds = self._assume(account_id, base)
            expiry = creds["Expiration"]
            if isinstance(expiry, datetime):
                expiry = expiry.astimezone(UTC).isoformat()
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": str(expiry),
            }

        refreshable = RefreshableCredentials.create_from_metadata(
            metadata=refresh(), refresh_using=refresh, method="sts-assume-role"
        )
        core: Any = self._botocore_session()
        core._credentials = refreshable
        core.set_config_variable("region", self.region)
        return boto3.Session(botocore_session=core)
