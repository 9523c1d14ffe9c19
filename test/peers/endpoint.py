#!/usr/bin/python3
"""The project's CloudFormation + STS test endpoint (AWS Query protocol).

One port serves every service in query.SERVICES; the service is the one in
the request's SigV4 credential scope (".../us-east-1/cloudformation/aws4_request"
or ".../sts/aws4_request"), so AWS_ENDPOINT_URL_CLOUDFORMATION and
AWS_ENDPOINT_URL_STS can both point here. Requests are form-encoded POSTs
(or GETs with the same parameters in the query string) with Action and
Version; the signature is checked with botocore's SigV4Auth over the exact
bytes received. Responses are AWS's XML.

usage: endpoint.py STATE_DIR      (writes STATE_DIR/endpoint.port)
"""

import json
import os
import sys
import time
from urllib.parse import parse_qsl

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awspeer  # noqa: E402
import query  # noqa: E402
from query import AwsError, Params, Context  # noqa: E402
import cfn  # noqa: E402,F401  (registers its actions)
import ssm  # noqa: E402,F401  (registers its JSON targets)
import sts  # noqa: E402

MAX_BODY = 16 << 20


def scope_service(auth):
    """The credential-scope service of an Authorization header (unverified)."""
    try:
        cred = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
        return cred.split("/")[3]
    except (IndexError, AttributeError):
        return None


class Handler(awspeer.PeerHandler):
    server_version = "Server"

    def json_protocol(self):
        return self.headers.get("X-Amz-Target") is not None

    def send_fault_error(self, kind):
        if self.json_protocol():
            if kind == "500":
                e = AwsError("InternalServerError", "", 500)
            elif kind == "503":
                e = AwsError("ServiceUnavailable", "Service Unavailable", 503)
            else:
                e = AwsError("ThrottlingException", "Rate exceeded", 400)
            return self.send_error_json(e)
        if kind == "500":
            e = AwsError("InternalFailure", "The request processing has failed because of an unknown "
                         "error, exception or failure.", 500, "Receiver")
        elif kind == "503":
            e = AwsError("ServiceUnavailable", "The request has failed due to a temporary failure of "
                         "the server.", 503, "Receiver")
        else:
            e = AwsError("Throttling", "Rate exceeded", 400, "Sender")
        return self.send_error_xml(e)

    def send_error_json(self, err, rid=None):
        rid = rid or awspeer.new_request_id()
        body = json.dumps({"__type": err.code, "message": err.message}).encode()
        self._entry["code"] = err.code
        self._entry["status"] = err.status
        self.send_raw(err.status, [("x-amzn-RequestId", rid), ("Content-Type", "application/x-amz-json-1.1")], body)
        return err.status

    def send_error_xml(self, err):
        if self.json_protocol():
            return self.send_error_json(err)
        rid = awspeer.new_request_id()
        body = query.error_xml(self._service or "cloudformation", err, rid).encode()
        self._entry["code"] = err.code
        self._entry["status"] = err.status
        self.send_raw(err.status, [("x-amzn-RequestId", rid), ("Content-Type", "text/xml")], body)
        return err.status

    def auth_error(self, e):
        d = e.detail
        if self.json_protocol():
            return self.send_error_json(self.auth_error_json(e))
        if e.kind == "missing":
            err = AwsError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
        elif e.kind in ("unknown_key", "bad_token"):
            err = AwsError("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
        elif e.kind == "expired_token":
            err = AwsError("ExpiredToken", "The security token included in the request is expired", 403)
        elif e.kind == "malformed":
            err = AwsError("IncompleteSignature", e.message, 400)
        elif e.kind == "mismatch":
            err = AwsError("SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature you provided. "
                           "Check your AWS Secret Access Key and signing method. Consult the service "
                           "documentation for details.\n\nThe Canonical String for this request should have "
                           "been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n" % (
                               d["canonical_request"], d["string_to_sign"]), 403)
        else:  # scope, skew, unsigned_headers, expired_url
            err = AwsError("SignatureDoesNotMatch", e.message, 403)
        return self.send_error_xml(err)

    @staticmethod
    def auth_error_json(e):
        """The JSON protocol's auth errors (all 400, as SSM answers them)."""
        d = e.detail
        if e.kind == "missing":
            return AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 400)
        if e.kind in ("unknown_key", "bad_token"):
            return AwsError("UnrecognizedClientException", "The security token included in the request is invalid.", 400)
        if e.kind == "expired_token":
            return AwsError("ExpiredTokenException", "The security token included in the request is expired", 400)
        if e.kind == "malformed":
            return AwsError("IncompleteSignatureException", e.message, 400)
        if e.kind == "mismatch":
            return AwsError("InvalidSignatureException",
                            "The request signature we calculated does not match the signature you provided. "
                            "Check your AWS Secret Access Key and signing method. Consult the service "
                            "documentation for details.\n\nThe Canonical String for this request should have "
                            "been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n" % (
                                d["canonical_request"], d["string_to_sign"]), 400)
        return AwsError("InvalidSignatureException", e.message, 400)

    def handle_aws(self):
        raw_path, _, raw_query = self.path.partition("?")
        auth = self.headers.get("Authorization", "")
        self._service = scope_service(auth)
        if self._service not in query.SERVICES:
            self._service = None
        entry = self._entry = {"time": time.time(), "method": self.command, "path": raw_path,
                               "service": self._service, "action": None, "op": None,
                               "status": None, "fault": None, "code": None}
        try:
            self._handle(raw_path, raw_query, auth, entry)
        finally:
            entry["ms"] = int((time.time() - self._t0) * 1000)
            self.peer.record(entry)

    def _handle(self, raw_path, raw_query, auth, entry):
        self.send_continue()
        self._body_consumed = True
        body = b""
        r = self.body_reader()
        while True:
            c = r.read()
            if not c:
                break
            body += c
            if len(body) > MAX_BODY:
                self.close_connection = True
                return self.send_error_xml(AwsError("RequestEntityTooLarge", "Request body too large", 413))
        target = self.headers.get("X-Amz-Target")
        ctype = (self.headers.get("Content-Type") or "").lower()
        pairs = []
        if target is None:
            if raw_query:
                pairs += parse_qsl(raw_query, keep_blank_values=True)
            if self.command == "POST" and ("x-www-form-urlencoded" in ctype or not ctype):
                try:
                    pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
                except UnicodeDecodeError:
                    pass
        p = Params(pairs)
        act = target.rsplit(".", 1)[-1] if target else p.get("Action")
        entry["action"] = entry["op"] = act
        entry["mutating"] = query.is_mutating(self._service or ("ssm" if target else "cloudformation"), act)
        if target is not None:
            try:
                names = ssm.request_names(json.loads(body or b"{}"))
            except ValueError:
                names = None
            if names:
                entry["names"] = names  # parameter names only, never values
        desc = "%s:%s %s %s" % (self._service, act, self.command, raw_path)
        if self.apply_fault(desc, entry):
            return
        try:
            cred, scope = awspeer.verify_sigv4(self.peer.creds, self.command, self.headers.get("Host"),
                                               raw_path, raw_query, list(self.headers.items()),
                                               set(query.SERVICES), s3=False, body=body)
        except awspeer.AuthError as e:
            return self.auth_error(e)
        entry["access_key"] = cred["access_key"]
        service = self._service = scope["service"]
        entry["service"] = service
        entry["mutating"] = query.is_mutating(service, act)
        version, _ = query.SERVICES[service]
        ctx = Context(service, act, cred, scope, awspeer.new_request_id())
        try:
            if target is not None:
                return self.dispatch_json(service, target, body, ctx)
            if not act:
                raise AwsError("MissingAction", "Missing Action", 400)
            if service == "ssm":
                raise AwsError("UnknownOperationException", "", 400)
            fn = query.ACTIONS.get((service, act))
            if fn is None:
                raise AwsError("InvalidAction", "Could not find operation %s for version %s" % (act, version), 400)
            if p.get("Version") != version:
                raise AwsError("InvalidAction", "Could not find operation %s for version %s" % (
                    act, p.get("Version") or "NO_VERSION_SPECIFIED"), 400)
            result = fn(p, ctx)
        except AwsError as e:
            return self.send_error_xml(e)
        body = query.response_xml(service, act, result, ctx.request_id).encode()
        self.send_raw(200, [("x-amzn-RequestId", ctx.request_id), ("Content-Type", "text/xml")], body)
        entry["status"] = 200

    def dispatch_json(self, service, target, body, ctx):
        """AWS JSON 1.1 protocol (e.g. SSM, added by a later issue)."""
        fn = query.JSON_TARGETS.get((service, target))
        if fn is None:
            out, status = {"__type": "UnknownOperationException"}, 400
        else:
            try:
                out, status = fn(json.loads(body or b"{}"), ctx), 200
            except AwsError as e:
                out, status = {"__type": e.code, "message": e.message}, e.status
            except ValueError:
                out, status = {"__type": "SerializationException"}, 400
        data = json.dumps(out).encode()
        self._entry["status"] = status
        if status != 200:
            self._entry["code"] = out.get("__type")
        self.send_raw(status, [("x-amzn-RequestId", ctx.request_id),
                               ("Content-Type", "application/x-amz-json-1.1")], data)

    def handle_admin_extra(self, path, params, spec):
        if path == "/__admin/calls/summary" and self.command == "GET":
            since = int(params.get("since", 0))
            with self.peer.lock:
                calls = [c for c in self.peer.calls if c["seq"] > since]
            by = {}
            for c in calls:
                k = "%s:%s" % (c.get("service"), c.get("action"))
                by[k] = by.get(k, 0) + 1
            return 200, {"total": len(calls), "mutating": sum(1 for c in calls if c.get("mutating")),
                         "mutating_calls": ["%s:%s" % (c.get("service"), c.get("action")) for c in calls
                                            if c.get("mutating")],
                         "by_action": by, "last": self.peer.seq}
        for fn in query.ADMIN_ROUTES:
            r = fn(self.command, path, params, spec)
            if r is not None:
                return r
        return None

    def admin_reset_extra(self, spec):
        for fn in query.ADMIN_RESETS:
            fn(spec)


def main():
    state = os.path.abspath(sys.argv[1])
    Handler.peer = awspeer.PeerState("endpoint", state)
    sts.STORE = Handler.peer.creds
    cfn.STATE_DIR = state
    awspeer.serve(Handler, state, "endpoint", int(os.environ.get("PEERS_ENDPOINT_PORT", "0")))


if __name__ == "__main__":
    main()
