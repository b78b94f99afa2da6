"""EC2's client tokens: a request retried with the same ClientToken does nothing again.

AWS (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html): "If you
retry a request with the same client token and the same parameters, the retry succeeds
without performing any further actions and returns the original result. If you retry a
request with the same client token, but one or more of the parameters are different, the
retry fails with an IdempotentParameterMismatch error."

moto 5.2.5 ignores ClientToken. An SDK that retries a create whose answer it never read
(the Terraform provider's retries up to 25 times, with the same token) then made a second
resource, which no state tracked: a VPC endpoint left behind after `down`. Each answer to
an EC2 request carrying a ClientToken is kept for the local cloud's life (AWS keeps a
token at least 24 hours), by caller (the access key: a retry signs with the same one),
region (a token is a region's: the same one elsewhere is another request), action and
token.

Pure WSGI-level: the form body, already buffered by the server, is the parameters.
"""

from __future__ import annotations

import io
import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from meshlink.localcloud.api_log import credential_scope

# (access key id, region, action, client token)
Key = tuple[str, str, str, str]


@dataclass(frozen=True)
class Answer:
    """A first answer, as the server sent it, and the parameters it answered."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    parameters: bytes


def _form(environ: dict[str, Any]) -> bytes | None:
    stream = environ.get("wsgi.input")
    return stream.getvalue() if isinstance(stream, io.BytesIO) else None


class ClientTokens:
    """The first answer to each EC2 request that carried a ClientToken (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[Key, Answer] = {}

    @staticmethod
    def key(environ: dict[str, Any]) -> Key | None:
        """The request's token key, None when it is not an EC2 request with a ClientToken."""
        scope = credential_scope(environ)
        form = _form(environ)
        if len(scope) < 4 or scope[3] != "ec2" or not form or b"ClientToken=" not in form:
            return None
        access_key, region = scope[0], scope[2]
        fields = parse_qs(form.decode("utf-8", "replace"))
        token = fields.get("ClientToken", [""])[0]
        action = fields.get("Action", [""])[0]
        return (access_key, region, action, token) if token and action else None

    def replay(self, key: Key, environ: dict[str, Any]) -> Answer | None:
        """The first answer again for a retry; a mismatch error for other parameters;
        None for a token not seen yet."""
        with self._lock:
            first = self._answers.get(key)
        if first is None:
            return None
        if first.parameters == _form(environ):
            return first
        return _mismatch(key[3])

    def keep(
        self,
        key: Key,
        environ: dict[str, Any],
        status: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        """Keep a successful first answer (a failed request is tried anew, as on AWS)."""
        if not status.startswith("2"):
            return
        answer = Answer(status, headers, body, _form(environ) or b"")
        with self._lock:
            self._answers.setdefault(key, answer)


def _mismatch(token: str) -> Answer:
    """EC2's error for a token reused with other parameters (its error response shape,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)."""
    message = escape(f"The client token '{token}' was used with different parameters.")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<Response><Errors><Error><Code>IdempotentParameterMismatch</Code>"
        f"<Message>{message}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()
    headers = [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
    return Answer("400 Bad Request", headers, body, b"")
