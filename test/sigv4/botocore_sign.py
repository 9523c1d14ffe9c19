#!/usr/bin/python3
"""Signs requests with botocore, as a second opinion for lib/sigv4.c.

Reads one JSON object per line on stdin:
  {"id": 1, "signer": "SigV4Auth" | "S3SigV4Auth"      (Authorization header)
                    | "SigV4QueryAuth" | "S3SigV4QueryAuth" (presigned URL),
   "expires": 3600                          (query signers only),
   "method": "GET", "url": "https://host/path as sent",
   "params": [["name", "value"], ...]      (un-encoded; may be empty),
   "headers": [["Name", "value"], ...]     (in order; repeats allowed),
   "body_hex": "...", "region": "...", "service": "...",
   "access_key": "...", "secret_key": "...", "token": null | "...",
   "timestamp": "YYYYMMDDTHHMMSSZ", "unsigned_payload": false}
and prints one JSON object per line on stdout:
  {"id": 1, "canonical_request": ..., "string_to_sign": ...,
   "signature": ..., "authorization": ..., "url": ...}
  or {"id": 1, "error": ...}. "authorization" is null for the query
  signers, whose result is the signed "url".

botocore reads the clock when it signs (SigV4Auth.add_auth), so the clock
is frozen at the request's timestamp: the `datetime` that botocore.auth
uses is replaced by one whose now()/utcnow() return it (and
botocore.compat.get_current_datetime, used by newer botocore versions, is
replaced too). The canonical request and string to sign are captured from
the signer's own methods as add_auth calls them.

Exit status 3, with a message on stderr, when botocore cannot be imported.
"""
import datetime
import json
import sys
import types
from unittest import mock

try:
    import botocore
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # pragma: no cover
    sys.stderr.write(f"botocore_sign: cannot import botocore: {e}\n")
    sys.exit(3)


def frozen_datetime(ts):
    fixed = datetime.datetime.strptime(ts, "%Y%m%dT%H%M%SZ")

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

        @classmethod
        def now(cls, tz=None):
            return fixed.replace(tzinfo=tz) if tz is not None else fixed

    module = types.SimpleNamespace(
        datetime=Frozen, timezone=datetime.timezone, timedelta=datetime.timedelta
    )
    return fixed, module


def capturing(base):
    """A subclass of signer class BASE that records each step."""

    class Capture(base):
        def canonical_request(self, request):
            self.captured["canonical_request"] = super().canonical_request(request)
            return self.captured["canonical_request"]

        def string_to_sign(self, request, canonical_request):
            self.captured["string_to_sign"] = super().string_to_sign(
                request, canonical_request
            )
            return self.captured["string_to_sign"]

        def signature(self, string_to_sign, request):
            self.captured["signature"] = super().signature(string_to_sign, request)
            return self.captured["signature"]

    return Capture


SIGNERS = {
    name: capturing(getattr(botocore.auth, name))
    for name in ("SigV4Auth", "S3SigV4Auth", "SigV4QueryAuth", "S3SigV4QueryAuth")
}


def sign(req):
    creds = Credentials(req["access_key"], req["secret_key"], req.get("token"))
    cls = SIGNERS[req["signer"]]
    if "Query" in req["signer"]:
        signer = cls(creds, req["service"], req["region"], expires=req["expires"])
    else:
        signer = cls(creds, req["service"], req["region"])
    signer.captured = {}
    params = [(k, v) for k, v in req.get("params") or []]
    request = AWSRequest(
        method=req["method"],
        url=req["url"],
        data=bytes.fromhex(req.get("body_hex", "")),
        params=params or None,
    )
    for name, value in req.get("headers") or []:
        request.headers[name] = value  # appends: repeated names are kept
    if req.get("unsigned_payload"):
        request.context["payload_signing_enabled"] = False
        request.context["client_config"] = types.SimpleNamespace(
            s3={"payload_signing_enabled": False}
        )
    fixed, module = frozen_datetime(req["timestamp"])
    patches = [mock.patch.object(botocore.auth, "datetime", module)]
    if hasattr(botocore.auth, "get_current_datetime"):
        patches.append(
            mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: fixed)
        )
    for p in patches:
        p.start()
    try:
        signer.add_auth(request)
    finally:
        for p in reversed(patches):
            p.stop()
    out = dict(signer.captured)
    out["authorization"] = request.headers.get("Authorization")
    out["url"] = request.url
    return out


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            out = sign(req)
        except Exception as e:  # reported per request, the run goes on
            out = {"error": f"{type(e).__name__}: {e}"}
        out["id"] = req.get("id")
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
