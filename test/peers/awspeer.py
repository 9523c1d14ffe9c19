"""Shared machinery of the local AWS test peers (S3 proxy and the
CloudFormation/STS endpoint): test credentials, SigV4 verification with
botocore's own signer, fault injection, the call log and the admin API.

Runs under Debian's /usr/bin/python3 with python3-botocore. Nothing here
ever prints or logs a secret key.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import secrets
import socket
import struct
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, quote

from botocore.auth import SigV4Auth, S3SigV4Auth, S3SigV4QueryAuth, SIGV4_TIMESTAMP
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from testcreds import ACCOUNT, STATIC_CREDENTIALS  # noqa: F401  (ACCOUNT is re-exported)

MAX_SKEW = 15 * 60  # seconds, as AWS


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def iso8601(t=None):
    return (t or now_utc()).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def new_request_id():
    return str(uuid.uuid4())


def xml_escape(s):
    s = "" if s is None else str(s)
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


class CredentialStore:
    """Known credentials: the static ones plus the issued ones in
    STATE/issued-credentials.json (re-read when it changes)."""

    def __init__(self, state_dir):
        self.path = os.path.join(state_dir, "issued-credentials.json")
        self.lock = threading.Lock()
        self._mtime = None
        self._issued = []

    def _reload(self):
        try:
            st = os.stat(self.path)
        except OSError:
            self._issued = []
            return
        if st.st_mtime_ns != self._mtime:
            try:
                with open(self.path) as f:
                    self._issued = json.load(f)
                self._mtime = st.st_mtime_ns
            except (OSError, ValueError):
                pass

    def lookup(self, access_key):
        for c in STATIC_CREDENTIALS:
            if c["access_key"] == access_key:
                return c
        with self.lock:
            self._reload()
            for c in self._issued:
                if c["access_key"] == access_key:
                    if c.get("expires", 0) and c["expires"] < time.time():
                        return dict(c, expired=True)
                    return c
        return None

    def issue(self, arn, user_id, duration):
        c = {
            "access_key": "ASIA" + secrets.token_hex(8).upper(),
            "secret_key": base64.b64encode(secrets.token_bytes(30)).decode(),
            "token": "FwoGZXIvYXdzE" + base64.b64encode(secrets.token_bytes(96)).decode(),
            "arn": arn,
            "user_id": user_id,
            "expires": time.time() + duration,
        }
        with self.lock:
            self._reload()
            issued = list(self._issued) + [c]
            tmp = self.path + ".tmp%d" % os.getpid()
            with open(tmp, "w") as f:
                json.dump(issued, f)
            os.replace(tmp, self.path)
            self._issued = issued
            self._mtime = os.stat(self.path).st_mtime_ns
        return c


# ---------------------------------------------------------------------------
# SigV4 verification
# ---------------------------------------------------------------------------

class AuthError(Exception):
    """A signature check failure: kind is one of missing, malformed,
    unknown_key, bad_token, expired_token, scope, skew, unsigned_headers,
    mismatch, expired_url. Peers map it to their service's error code."""

    def __init__(self, kind, message, **detail):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


class _Exact(object):
    """Mixin: sign exactly the headers the client listed in SignedHeaders
    (botocore would otherwise drop user-agent/expect and add a missing host).
    Everything else -- canonical form, string to sign, key derivation -- is
    botocore's."""

    def headers_to_sign(self, request):
        hm = HTTPHeaders()
        for name in request.context["signed_headers"]:
            for v in request.headers.get_all(name) or []:
                hm[name] = v
            if name not in hm:
                hm[name] = ""
        return hm


class _ExactSigV4(_Exact, SigV4Auth):
    pass


class _ExactS3SigV4(_Exact, S3SigV4Auth):
    pass


class _ExactS3Query(_Exact, S3SigV4QueryAuth):
    pass


def _parse_query(raw_query, drop=()):
    params = []
    if raw_query:
        for pair in raw_query.split("&"):
            if pair == "":
                continue
            k, _, v = pair.partition("=")
            k, v = unquote(k), unquote(v)
            if k in drop:
                continue
            params.append((k, v))
    return params


def parse_authorization(value):
    """'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...'"""
    alg, _, rest = value.strip().partition(" ")
    if alg != "AWS4-HMAC-SHA256":
        raise AuthError("malformed", "Unsupported Authorization Type", algorithm=alg)
    comps = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        k, eq, v = part.partition("=")
        if not eq:
            raise AuthError("malformed", "Authorization header requires existence of either a "
                            "'X-Amz-Date' or a 'Date' header. Authorization=" + value.split(" ")[0])
        comps[k.strip()] = v.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in comps]
    if missing:
        raise AuthError("malformed", "Authorization header requires '%s' parameter." % missing[0],
                        missing=missing)
    return comps["Credential"], comps["SignedHeaders"], comps["Signature"]


def verify_sigv4(store, method, host, raw_path, raw_query, headers, services, s3, body=None):
    """Checks a request's SigV4 signature with botocore. headers: list of
    (name, value) as received. services: accepted credential-scope service
    names. s3: S3 rules (no path normalisation, x-amz-content-sha256
    required, every x-amz-* header signed, presigned URLs). body: the
    payload bytes (non-S3 services; S3 uses x-amz-content-sha256).
    Returns (credential dict, scope dict). Raises AuthError."""
    hdrs = {}
    for n, v in headers:
        hdrs.setdefault(n.lower(), []).append(v)

    def h1(name):
        v = hdrs.get(name)
        return v[0] if v else None

    query = _parse_query(raw_query)
    qd = dict(query)
    presigned = "X-Amz-Algorithm" in qd
    if presigned and h1("authorization"):
        raise AuthError("malformed", "Only one auth mechanism allowed; only the X-Amz-Algorithm "
                        "query parameter, Signature query string parameter or the Authorization "
                        "header should be specified")
    if presigned:
        if qd.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise AuthError("malformed", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
        for k in ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders",
                  "X-Amz-Expires"):
            if k not in qd:
                raise AuthError("malformed", "Query-string authentication version 4 requires the "
                                "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, "
                                "X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
        credential, signed, provided = qd["X-Amz-Credential"], qd["X-Amz-SignedHeaders"], qd["X-Amz-Signature"]
        stamp = qd["X-Amz-Date"]
        token = qd.get("X-Amz-Security-Token")
    else:
        auth = h1("authorization")
        if not auth:
            raise AuthError("missing", "Request is missing Authentication Token")
        credential, signed, provided = parse_authorization(auth)
        stamp = h1("x-amz-date")
        if stamp is None and h1("date"):
            try:
                import email.utils
                stamp = email.utils.parsedate_to_datetime(h1("date")).strftime(SIGV4_TIMESTAMP)
            except (TypeError, ValueError):
                stamp = None
        if stamp is None:
            raise AuthError("malformed", "Authorization header requires existence of either a "
                            "'X-Amz-Date' or a 'Date' header.")
        token = h1("x-amz-security-token")

    cparts = credential.split("/")
    if len(cparts) != 5 or cparts[4] != "aws4_request":
        raise AuthError("malformed", "Credential should be scoped to a valid region, not a "
                        "malformed credential '%s'." % credential, credential=credential)
    akid, cdate, region, service, _ = cparts
    scope = {"access_key": akid, "date": cdate, "region": region, "service": service}

    cred = store.lookup(akid)
    if cred is None:
        raise AuthError("unknown_key", "The AWS Access Key Id you provided does not exist in our records.",
                        access_key=akid)
    if cred.get("token") and token != cred["token"]:
        raise AuthError("bad_token", "The provided token is malformed or otherwise invalid.", access_key=akid)
    if not cred.get("token") and token:
        raise AuthError("bad_token", "The provided token is malformed or otherwise invalid.", access_key=akid)
    if cred.get("expired"):
        raise AuthError("expired_token", "The provided token has expired.", access_key=akid)

    if service not in services:
        raise AuthError("scope", "Credential should be scoped to correct service: '%s'." % sorted(services)[0],
                        service=service)
    try:
        t = datetime.datetime.strptime(stamp, SIGV4_TIMESTAMP)
    except ValueError:
        raise AuthError("malformed", "X-Amz-Date must be in the ISO8601 Long Format "
                        "\"yyyyMMdd'T'HHmmss'Z'\"", date=stamp)
    if cdate != stamp[:8]:
        raise AuthError("scope", "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                        "version of date from HTTP: '%s' != '%s', from '%s'." % (cdate, stamp[:8], stamp))
    now = now_utc()
    if presigned:
        try:
            expires = int(qd["X-Amz-Expires"])
        except ValueError:
            raise AuthError("malformed", "X-Amz-Expires should be a number")
        if expires > 604800:
            raise AuthError("malformed", "X-Amz-Expires must be less than a week (in seconds) that is 604800")
        if now > t + datetime.timedelta(seconds=expires):
            raise AuthError("expired_url", "Request has expired", expires=expires,
                            server_time=iso8601(now)[:-5] + "Z")
        if t - now > datetime.timedelta(seconds=MAX_SKEW):
            raise AuthError("skew", "Request is not valid yet")
    elif abs((now - t).total_seconds()) > MAX_SKEW:
        raise AuthError("skew", "Signature expired: %s is now earlier than %s (%s - 15 min.)" % (
            stamp, (now - datetime.timedelta(seconds=MAX_SKEW)).strftime(SIGV4_TIMESTAMP),
            now.strftime(SIGV4_TIMESTAMP)),
            request_time=stamp, server_time=now.strftime(SIGV4_TIMESTAMP))

    signed_list = signed.split(";")
    if "host" not in signed_list:
        raise AuthError("unsigned_headers", "Host header must be signed" if not s3 else
                        "There were headers present in the request which were not signed",
                        headers_not_signed="host")
    if s3 and not presigned:
        not_signed = sorted(n for n in hdrs if n.startswith("x-amz-") and n not in signed_list)
        if not_signed:
            raise AuthError("unsigned_headers", "There were headers present in the request which were not signed",
                            headers_not_signed=", ".join(not_signed))
        if h1("x-amz-content-sha256") is None:
            raise AuthError("malformed", "Missing required header for this request: x-amz-content-sha256",
                            code="InvalidRequest")

    creds = Credentials(cred["access_key"], cred["secret_key"], cred.get("token"))
    if s3:
        path = quote(unquote(raw_path), safe="/~")
        cls = _ExactS3Query if presigned else _ExactS3SigV4
    else:
        path = raw_path
        cls = _ExactSigV4
    signer = cls(creds, service, region)
    req = AWSRequest(method=method, url="http://%s%s" % (host or "localhost", path),
                     data=body if body is not None else b"")
    req.headers = HTTPHeaders()
    for n, v in headers:
        ln = n.lower()
        if ln in signed_list:
            req.headers[ln] = v
    # The payload hash botocore puts in the canonical request: for S3 the
    # x-amz-content-sha256 value as sent (checked against the body by the
    # proxy); for other services botocore hashes the body unless the client
    # sent that header (then the endpoint compares it with the body).
    if h1("x-amz-content-sha256") is not None and not presigned and "X-Amz-Content-SHA256" not in req.headers:
        req.headers["X-Amz-Content-SHA256"] = h1("x-amz-content-sha256")
    if presigned:
        req.params = [(k, v) for k, v in query if k != "X-Amz-Signature"]
    else:
        req.params = query
    req.context["timestamp"] = stamp
    req.context["signed_headers"] = signed_list
    canonical = signer.canonical_request(req)
    sts = signer.string_to_sign(req, canonical)
    expected = signer.signature(sts, req)
    if not s3 and body is not None and h1("x-amz-content-sha256") not in (None, hashlib.sha256(body).hexdigest()):
        raise AuthError("mismatch", "The x-amz-content-sha256 header does not match the body's SHA-256.",
                        canonical_request=canonical, string_to_sign=sts, signature_provided=provided,
                        access_key=akid)
    if not hmac.compare_digest(expected, provided):
        raise AuthError("mismatch", "The request signature we calculated does not match the signature "
                        "you provided.", canonical_request=canonical, string_to_sign=sts,
                        signature_provided=provided, access_key=akid)
    scope["signature"] = provided
    scope["timestamp"] = stamp
    scope["presigned"] = presigned
    scope["signing_key"] = _signing_key(signer, cred["secret_key"], stamp[:8], region, service)
    return cred, scope


def _signing_key(signer, secret, date, region, service):
    k = signer._sign(("AWS4" + secret).encode(), date)
    k = signer._sign(k, region)
    k = signer._sign(k, service)
    return signer._sign(k, "aws4_request")


# ---------------------------------------------------------------------------
# Faults and the call log
# ---------------------------------------------------------------------------

FAULT_KINDS = ("500", "503", "throttle", "reset", "slow")


class PeerState:
    def __init__(self, name, state_dir):
        self.name = name
        self.state_dir = state_dir
        self.lock = threading.Lock()
        self.faults = []
        self.calls = []
        self.seq = 0
        self.fault_seq = 0
        self.creds = CredentialStore(state_dir)

    def add_fault(self, spec):
        kind = str(spec.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ValueError("kind must be one of %s" % ", ".join(FAULT_KINDS))
        count = int(spec.get("count", 1))
        f = {
            "kind": kind,
            "count": count,  # < 0: until cleared
            "skip": int(spec.get("skip", 0)),
            "delay_ms": int(spec.get("delay_ms", 2000 if kind == "slow" else 0)),
            "match": spec.get("match") or "",
        }
        with self.lock:
            self.fault_seq += 1
            f["id"] = self.fault_seq
            self.faults.append(f)
        return f

    def take_fault(self, description):
        """The fault the next call matching `description` gets, or None."""
        with self.lock:
            for f in self.faults:
                if f["count"] == 0 or (f["match"] and f["match"] not in description):
                    continue
                if f["skip"] > 0:
                    f["skip"] -= 1
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                return dict(f)
            return None

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.calls.append(entry)
            if len(self.calls) > 20000:
                del self.calls[:10000]
        return entry

    def reset(self):
        with self.lock:
            self.faults = []
            self.calls = []


class BodyReader:
    """Reads a request body framed by Content-Length or chunked encoding."""

    def __init__(self, rfile, length=None, chunked=False):
        self.rfile = rfile
        self.left = length or 0
        self.chunked = chunked
        self.done = not chunked and not length
        self.chunk_left = 0
        self.trailers = []

    def _line(self):
        line = self.rfile.readline(65537)
        if not line:
            raise ConnectionError("client closed the connection in the request body")
        return line

    def read(self, n=1 << 20):
        if self.done:
            return b""
        if not self.chunked:
            data = self.rfile.read(min(n, self.left))
            if not data:
                raise ConnectionError("client closed the connection in the request body")
            self.left -= len(data)
            if self.left == 0:
                self.done = True
            return data
        if self.chunk_left == 0:
            line = self._line()
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:
                    t = self._line()
                    if t in (b"\r\n", b"\n"):
                        break
                    self.trailers.append(t.decode("latin-1").strip())
                self.done = True
                return b""
            self.chunk_left = size
        data = self.rfile.read(min(n, self.chunk_left))
        if not data:
            raise ConnectionError("client closed the connection in the request body")
        self.chunk_left -= len(data)
        if self.chunk_left == 0:
            self._line()
        return data

    def drain(self):
        while self.read():
            pass


class PeerHandler(BaseHTTPRequestHandler):
    """Base handler: HTTP/1.1 keep-alive, manual 100-continue, admin API,
    faults. Subclasses implement handle_aws() and the error format."""

    protocol_version = "HTTP/1.1"
    timeout = 300  # an idle keep-alive connection is closed after this
    server_version = "AmazonS3"
    sys_version = ""
    peer = None  # PeerState, set on the subclass

    # -- plumbing ---------------------------------------------------------
    def log_message(self, fmt, *args):
        pass

    def handle_expect_100(self):
        # Decide later (after the signature check), as S3 does.
        self._expect_100 = True
        return True

    def send_continue(self):
        if getattr(self, "_expect_100", False) and not getattr(self, "_sent_100", False):
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
            self._sent_100 = True

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    def body_reader(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            return BodyReader(self.rfile, chunked=True)
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        return BodyReader(self.rfile, length=n)

    def discard_body(self):
        """Before an early error response: with 100-continue pending, the
        client has not sent the body, so close the connection after the
        response; otherwise read the body so the connection stays usable."""
        if getattr(self, "_body_consumed", False):
            return
        self._body_consumed = True
        if getattr(self, "_expect_100", False) and not getattr(self, "_sent_100", False):
            self.close_connection = True
            return
        try:
            self.body_reader().drain()
        except (OSError, ValueError, ConnectionError):
            self.close_connection = True

    def send_raw(self, status, headers, body=b"", head=False):
        self.send_response_only(status)
        have = set()
        for k, v in headers:
            self.send_header(k, v)
            have.add(k.lower())
        if "date" not in have:
            self.send_header("Date", self.date_time_string())
        if "content-length" not in have:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and not head:
            self.wfile.write(body)
        self.wfile.flush()

    def reset_connection(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        # The socket's fd stays open while rfile (a makefile) holds a
        # reference: close that first so close() really sends the RST now.
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.connection.close()
        except OSError:
            pass

    # -- dispatch ------------------------------------------------------------
    def _dispatch(self):
        self._expect_100 = self._expect_100 if hasattr(self, "_expect_100") else False
        self._entry = None
        if self.path.startswith("/__admin"):
            return self.handle_admin()
        self._t0 = time.time()
        try:
            self.handle_aws()
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True
        finally:
            self._expect_100 = False
            self._sent_100 = False
            self._body_consumed = False

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _dispatch

    def apply_fault(self, description, entry):
        """Injects the next matching fault. Returns True when the request
        was answered (or the connection dropped) by the fault."""
        f = self.peer.take_fault(description)
        if f is None:
            return False
        entry["fault"] = f["kind"]
        if f["delay_ms"] > 0:
            time.sleep(f["delay_ms"] / 1000.0)
        if f["kind"] == "slow":
            return False
        if f["kind"] == "reset":
            entry["status"] = 0
            # Reset after the body was sent (unless the client waits for a
            # 100 Continue): the client sees its request vanish unanswered.
            self.discard_body()
            self.reset_connection()
            return True
        self.discard_body()
        entry["status"] = self.send_fault_error(f["kind"])
        return True

    # -- admin API -----------------------------------------------------------
    def admin_json(self, status, obj):
        body = (json.dumps(obj, indent=1, default=str) + "\n").encode()
        self.send_raw(status, [("Content-Type", "application/json")], body)

    def admin_body(self):
        data = b""
        r = self.body_reader()
        while True:
            c = r.read()
            if not c:
                break
            data += c
        if not data.strip():
            return {}
        return json.loads(data)

    def handle_admin(self):
        path, _, q = self.path.partition("?")
        try:
            spec = self.admin_body() if self.command in ("POST", "PUT", "DELETE") else {}
        except ValueError as e:
            return self.admin_json(400, {"error": "bad JSON: %s" % e})
        params = dict(_parse_query(q))
        try:
            if path == "/__admin/fault" and self.command == "POST" or path == "/__admin/faults" and self.command == "POST":
                specs = spec if isinstance(spec, list) else [spec]
                return self.admin_json(200, {"faults": [self.peer.add_fault(s) for s in specs]})
            if path == "/__admin/faults" and self.command == "GET":
                with self.peer.lock:
                    return self.admin_json(200, {"faults": [f for f in self.peer.faults if f["count"] != 0]})
            if path in ("/__admin/faults", "/__admin/fault") and self.command == "DELETE":
                with self.peer.lock:
                    self.peer.faults = []
                return self.admin_json(200, {"ok": True})
            if path == "/__admin/calls" and self.command == "GET":
                since = int(params.get("since", 0))
                with self.peer.lock:
                    calls = [c for c in self.peer.calls if c["seq"] > since]
                return self.admin_json(200, {"calls": calls, "last": self.peer.seq})
            if path == "/__admin/calls" and self.command == "DELETE":
                with self.peer.lock:
                    self.peer.calls = []
                return self.admin_json(200, {"ok": True})
            if path == "/__admin/reset" and self.command == "POST":
                self.peer.reset()
                self.admin_reset_extra(spec)
                return self.admin_json(200, {"ok": True})
            if path == "/__admin/health":
                return self.admin_json(200, {"ok": True, "peer": self.peer.name, "pid": os.getpid()})
            r = self.handle_admin_extra(path, params, spec)
            if r is not None:
                return self.admin_json(*r)
        except (ValueError, KeyError, TypeError) as e:
            return self.admin_json(400, {"error": str(e)})
        return self.admin_json(404, {"error": "no admin route %s %s" % (self.command, path)})

    def handle_admin_extra(self, path, params, spec):
        return None

    def admin_reset_extra(self, spec):
        pass


class PeerServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def serve(handler_cls, state_dir, name, port=0):
    """Binds 127.0.0.1:port (0: a free one), writes STATE/NAME.port once
    listening, then serves until SIGTERM."""
    import signal
    srv = PeerServer(("127.0.0.1", port), handler_cls)
    port = srv.server_address[1]
    tmp = os.path.join(state_dir, "%s.port.tmp" % name)
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, os.path.join(state_dir, "%s.port" % name))

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
