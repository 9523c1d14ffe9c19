#!/usr/bin/python3
"""S3 signature-checking reverse proxy in front of s3rver.

Every request: fault injection, SigV4 check with botocore (header or
presigned query), then the body is streamed to a spool file while its
SHA-256 / MD5 / x-amz-checksum-* are computed and checked, and only a
verified request is forwarded to s3rver (path style, without auth). It
also answers what s3rver lacks: ListParts, AbortMultipartUpload,
ListMultipartUploads, NoSuchUpload, and CompleteMultipartUpload part
validation (InvalidPart, InvalidPartOrder, EntityTooSmall).

usage: s3proxy.py STATE_DIR   (s3rver's port is read from STATE_DIR/s3rver.port,
                               its data dir is STATE_DIR/s3data)
"""

import base64
import hashlib
import http.client
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import zlib
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awspeer  # noqa: E402
from awspeer import AuthError, xml_escape  # noqa: E402

S3NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MIN_PART = 5 * 1024 * 1024
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
       "transfer-encoding", "upgrade", "expect"}
STATE_DIR = None
DATA_DIR = None
OWNER = "<ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>synth-test</DisplayName>"


class S3Error(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def split_host(host):
    if not host:
        return "", ""
    if host.startswith("["):
        h, _, rest = host[1:].partition("]")
        return h, rest.lstrip(":")
    h, _, p = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    return (h, p) if h else (host, "")


def vhost_bucket(host):
    """bucket.localhost[:port] and bucket.s3[.region].localhost -> bucket."""
    h, _ = split_host(host)
    h = h.lower()
    if not h.endswith(".localhost"):
        return None
    b = h[: -len(".localhost")]
    m = re.match(r"^(.+)\.s3(?:[.-][a-z0-9-]+)?$", b)
    return m.group(1) if m else b


def classify(method, bucket, key, q, headers):
    has = lambda k: k in q  # noqa: E731
    if not bucket:
        return "ListBuckets" if method == "GET" else "Unknown"
    if not key:
        if method == "PUT":
            for sub in ("cors", "website", "policy", "tagging", "versioning", "acl", "lifecycle",
                        "encryption", "publicAccessBlock", "notification", "logging"):
                if has(sub):
                    return "PutBucket" + sub[0].upper() + sub[1:]
            return "CreateBucket"
        if method == "HEAD":
            return "HeadBucket"
        if method == "DELETE":
            for sub in ("cors", "website", "policy", "tagging", "lifecycle", "encryption"):
                if has(sub):
                    return "DeleteBucket" + sub[0].upper() + sub[1:]
            return "DeleteBucket"
        if method == "POST":
            return "DeleteObjects" if has("delete") else "PostObject"
        if method == "GET":
            if q.get("list-type") == "2":
                return "ListObjectsV2"
            for sub, name in (("location", "GetBucketLocation"), ("uploads", "ListMultipartUploads"),
                              ("versioning", "GetBucketVersioning"), ("versions", "ListObjectVersions"),
                              ("policy", "GetBucketPolicy"), ("cors", "GetBucketCors"),
                              ("website", "GetBucketWebsite"), ("acl", "GetBucketAcl"),
                              ("tagging", "GetBucketTagging"), ("encryption", "GetBucketEncryption")):
                if has(sub):
                    return name
            return "ListObjects"
        return "Unknown"
    copy = "x-amz-copy-source" in headers
    if method == "PUT":
        if has("uploadId") or has("partNumber"):
            return "UploadPartCopy" if copy else "UploadPart"
        if has("tagging"):
            return "PutObjectTagging"
        if has("acl"):
            return "PutObjectAcl"
        return "CopyObject" if copy else "PutObject"
    if method == "POST":
        if has("uploads"):
            return "CreateMultipartUpload"
        if has("uploadId"):
            return "CompleteMultipartUpload"
        return "Unknown"
    if method == "GET":
        if has("uploadId"):
            return "ListParts"
        if has("tagging"):
            return "GetObjectTagging"
        if has("acl"):
            return "GetObjectAcl"
        return "GetObject"
    if method == "HEAD":
        return "HeadObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if has("uploadId") else "DeleteObject"
    return "Unknown"


class Buffered:
    """readline()/read(n) over a BodyReader."""

    def __init__(self, src):
        self.src, self.buf = src, b""

    def _fill(self):
        d = self.src.read(1 << 20)
        if not d:
            return False
        self.buf += d
        return True

    def readline(self, limit=4096):
        while b"\n" not in self.buf:
            if len(self.buf) > limit or not self._fill():
                raise S3Error(400, "IncompleteBody", "The request body terminated unexpectedly")
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def read(self, n):
        if not self.buf and not self._fill():
            return b""
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def read_exact(self, n):
        out = []
        while n > 0:
            d = self.read(min(n, 1 << 20))
            if not d:
                raise S3Error(400, "IncompleteBody", "The request body terminated unexpectedly")
            out.append(d)
            n -= len(d)
        return b"".join(out)


class AwsChunked:
    """Decodes Content-Encoding: aws-chunked bodies:
    STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk signature checked) and
    STREAMING-UNSIGNED-PAYLOAD-TRAILER (trailing checksum collected)."""

    def __init__(self, src, mode, scope, signer_sign):
        self.src = Buffered(src)
        self.mode = mode
        self.scope = scope
        self.sign = signer_sign
        self.prev = scope.get("signature")
        self.left = 0
        self.done = False
        self.trailers = {}

    def _header(self):
        line = self.src.readline().rstrip(b"\r\n").decode("latin-1")
        size_s, _, ext = line.partition(";")
        try:
            size = int(size_s, 16)
        except ValueError:
            raise S3Error(400, "InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes")
        sig = None
        if self.mode == "signed":
            k, _, sig = ext.partition("=")
            if k != "chunk-signature" or not sig:
                raise S3Error(403, "SignatureDoesNotMatch", "The chunk signature is missing.")
        return size, sig

    def _check(self, sig, data):
        if self.mode != "signed":
            return
        sc = "%s/%s/%s/aws4_request" % (self.scope["date"], self.scope["region"], self.scope["service"])
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.scope["timestamp"], sc, self.prev,
                         EMPTY_SHA256, hashlib.sha256(data).hexdigest()])
        expected = self.sign(self.scope["signing_key"], sts, hex=True)
        if expected != sig:
            raise S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match "
                          "the signature you provided. Check your key and signing method.",
                          StringToSign=sts, SignatureProvided=sig)
        self.prev = sig

    def read(self, n=1 << 20):
        if self.done:
            return b""
        size, sig = self._header()
        data = self.src.read_exact(size) if size else b""
        self._check(sig, data)
        if size == 0:
            # trailers (unsigned-trailer mode) then a blank line
            while True:
                line = self.src.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                k, _, v = line.decode("latin-1").strip().partition(":")
                self.trailers[k.strip().lower()] = v.strip()
            self.done = True
            return b""
        crlf = self.src.read_exact(2)
        if crlf != b"\r\n":
            raise S3Error(400, "IncompleteBody", "The request body terminated unexpectedly")
        return data


def checksum_of(alg):
    if alg == "sha256":
        return hashlib.sha256()
    if alg == "sha1":
        return hashlib.sha1()
    if alg == "crc32":
        class C:
            v = 0

            def update(self, d):
                self.v = zlib.crc32(d, self.v)

            def digest(self):
                return self.v.to_bytes(4, "big")
        return C()
    return None  # crc32c/crc64nvme: not verified here


class Handler(awspeer.PeerHandler):
    server_version = "AmazonS3"

    # -- errors ----------------------------------------------------------------
    def s3_error(self, status, code, message, head=False, extra=None, **kw):
        rid = secrets.token_hex(8).upper()
        hid = base64.b64encode(secrets.token_bytes(48)).decode()
        parts = ["<Code>%s</Code>" % code, "<Message>%s</Message>" % xml_escape(message)]
        for k, v in list((extra or {}).items()) + list(kw.items()):
            if v is not None:
                parts.append("<%s>%s</%s>" % (k, xml_escape(v), k))
        parts.append("<RequestId>%s</RequestId><HostId>%s</HostId>" % (rid, hid))
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>%s</Error>' % "".join(parts)).encode()
        self.send_raw(status, [("Content-Type", "application/xml"), ("x-amz-request-id", rid),
                               ("x-amz-id-2", hid)], body, head=head or self.command == "HEAD")
        if self._entry is not None:
            self._entry["code"] = code
        return status

    def send_fault_error(self, kind):
        if kind == "500":
            return self.s3_error(500, "InternalError", "We encountered an internal error. Please try again.")
        if kind == "503":
            return self.s3_error(503, "ServiceUnavailable", "Service is unable to handle request.")
        return self.s3_error(503, "SlowDown", "Please reduce your request rate.")

    def auth_error(self, e):
        d = e.detail
        if e.kind == "missing":
            return self.s3_error(403, "AccessDenied", "Access Denied")
        if e.kind == "unknown_key":
            return self.s3_error(403, "InvalidAccessKeyId", e.message, AWSAccessKeyId=d.get("access_key"))
        if e.kind == "bad_token":
            return self.s3_error(400, "InvalidToken", e.message)
        if e.kind == "expired_token":
            return self.s3_error(400, "ExpiredToken", e.message)
        if e.kind == "skew":
            return self.s3_error(403, "RequestTimeTooSkewed", "The difference between the request time and "
                                 "the current time is too large.", RequestTime=d.get("request_time"),
                                 ServerTime=d.get("server_time"), MaxAllowedSkewMilliseconds="900000")
        if e.kind == "unsigned_headers":
            return self.s3_error(403, "AccessDenied", e.message, HeadersNotSigned=d.get("headers_not_signed"))
        if e.kind == "expired_url":
            return self.s3_error(403, "AccessDenied", "Request has expired",
                                 extra={"X-Amz-Expires": d.get("expires"), "ServerTime": d.get("server_time")})
        if e.kind == "mismatch":
            sts, cr = d["string_to_sign"], d["canonical_request"]
            return self.s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not "
                                 "match the signature you provided. Check your key and signing method.",
                                 AWSAccessKeyId=d.get("access_key"), StringToSign=sts,
                                 SignatureProvided=d.get("signature_provided"),
                                 StringToSignBytes=" ".join("%02x" % b for b in sts.encode()),
                                 CanonicalRequest=cr,
                                 CanonicalRequestBytes=" ".join("%02x" % b for b in cr.encode()))
        code = d.get("code")
        if code:
            return self.s3_error(400, code, e.message)
        if e.kind == "scope":
            return self.s3_error(400, "AuthorizationHeaderMalformed",
                                 "The authorization header is malformed; " + e.message)
        if "X-Amz-Algorithm" in self._query_raw:
            return self.s3_error(400, "AuthorizationQueryParametersError", e.message)
        return self.s3_error(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; " + e.message)

    # -- main ------------------------------------------------------------------
    def handle_aws(self):
        raw_path, _, raw_query = self.path.partition("?")
        self._query_raw = raw_query
        if raw_path.startswith("http://") or raw_path.startswith("https://"):
            raw_path = "/" + raw_path.split("/", 3)[3] if raw_path.count("/") >= 3 else "/"
        host = self.headers.get("Host", "")
        vb = vhost_bucket(host)
        dec = unquote(raw_path)
        if vb:
            bucket, key = vb, dec[1:]
        else:
            bucket, _, key = dec[1:].partition("/")
        q = dict(awspeer._parse_query(raw_query))
        hdr_lower = {k.lower(): v for k, v in self.headers.items()}
        op = classify(self.command, bucket, key, q, hdr_lower)
        fwd_path = "/" + quote(bucket, safe="") + ("/" + quote(key, safe="/~") if key else "") if bucket else "/"
        entry = self._entry = {"time": time.time(), "method": self.command, "path": fwd_path,
                               "query": raw_query, "op": op, "action": op, "vhost": bool(vb),
                               "status": None, "fault": None, "code": None, "bytes_in": 0}
        desc = "%s %s %s%s" % (op, self.command, fwd_path, "?" + raw_query if raw_query else "")
        try:
            if self.apply_fault(desc, entry):
                return
            self._handle(bucket, key, q, raw_path, raw_query, host, hdr_lower, fwd_path, op)
        except S3Error as e:
            self.discard_body()
            self.s3_error(e.status, e.code, e.message, extra=e.extra)
        except AuthError as e:
            self.discard_body()
            self.auth_error(e)
        finally:
            if entry["status"] is None:
                entry["status"] = getattr(self, "_last_status", None)
            entry["ms"] = int((time.time() - self._t0) * 1000)
            self.peer.record(entry)

    def send_raw(self, status, headers, body=b"", head=False):
        self._last_status = status
        if self._entry is not None:
            self._entry["status"] = status
        super().send_raw(status, headers, body, head)

    def _handle(self, bucket, key, q, raw_path, raw_query, host, h, fwd_path, op):
        cred, scope = awspeer.verify_sigv4(self.peer.creds, self.command, host, raw_path, raw_query,
                                           list(self.headers.items()), {"s3"}, s3=True)
        self._entry["access_key"] = cred["access_key"]
        te = (h.get("transfer-encoding") or "").lower()
        csha = h.get("x-amz-content-sha256") or ("UNSIGNED-PAYLOAD" if scope["presigned"] else None)
        aws_chunked = csha and csha.startswith("STREAMING-")
        if csha not in ("UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                        "STREAMING-UNSIGNED-PAYLOAD-TRAILER") and not re.fullmatch(r"[0-9a-f]{64}", csha or ""):
            if aws_chunked:
                raise S3Error(501, "NotImplemented", "A header you provided implies functionality that is "
                              "not implemented", Header="x-amz-content-sha256")
            raise S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                          "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.",
                          ArgumentName="x-amz-content-sha256", ArgumentValue=csha)
        if "chunked" in te and not aws_chunked and self.command in ("PUT", "POST"):
            raise S3Error(501, "NotImplemented", "A header you provided implies functionality that is not "
                          "implemented", Header="Transfer-Encoding")
        if self.command == "PUT" and "content-length" not in h and "chunked" not in te:
            raise S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
        if aws_chunked and "x-amz-decoded-content-length" not in h:
            raise S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")

        # What s3rver lacks or gets wrong, answered here.
        if op in ("ListParts", "AbortMultipartUpload", "ListMultipartUploads", "UploadPart",
                  "CompleteMultipartUpload"):
            if not os.path.isdir(os.path.join(DATA_DIR, bucket)):
                raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=bucket)
            if op == "ListMultipartUploads":
                return self.list_uploads(bucket, q)
            up = self.upload_dir(bucket, key, q.get("uploadId", ""))
            if op == "ListParts":
                self.discard_body()
                return self.list_parts(bucket, key, q, up)
            if op == "AbortMultipartUpload":
                self.discard_body()
                shutil.rmtree(up, ignore_errors=True)
                return self.send_raw(204, [("x-amz-request-id", secrets.token_hex(8).upper())])
            if op == "UploadPart":
                pn = q.get("partNumber", "")
                if not pn.isdigit() or not 1 <= int(pn) <= 10000:
                    raise S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and "
                                  "10000, inclusive", ArgumentName="partNumber", ArgumentValue=pn)

        self.send_continue()
        spool, length = self.read_body(h, csha, aws_chunked, scope)
        try:
            self._entry["bytes_in"] = length
            if op == "CompleteMultipartUpload":
                self.check_complete(bucket, key, q, spool)
            self.forward(fwd_path, raw_query, h, spool, length)
        finally:
            spool.close()

    # -- body ------------------------------------------------------------------
    def read_body(self, h, csha, aws_chunked, scope):
        self._body_consumed = True
        src = self.body_reader()
        trailer_alg = None
        if aws_chunked:
            mode = "signed" if csha == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" else "trailer"
            dec = AwsChunked(src, mode, scope, awspeer.SigV4Auth(None, "s3", scope["region"])._sign)
            reader = dec
            if mode == "trailer":
                trailer_alg = (h.get("x-amz-trailer") or "").lower()
        else:
            reader = src
        sha = hashlib.sha256() if re.fullmatch(r"[0-9a-f]{64}", csha or "") else None
        md5 = hashlib.md5() if "content-md5" in h else None
        sums = {}
        for k in list(h.keys()) + ([trailer_alg] if trailer_alg else []):
            if k and k.startswith("x-amz-checksum-") and k != "x-amz-checksum-algorithm" and k != "x-amz-checksum-type":
                c = checksum_of(k[len("x-amz-checksum-"):])
                if c is not None:
                    sums[k] = c
        os.makedirs(os.path.join(STATE_DIR, "tmp"), exist_ok=True)
        spool = tempfile.SpooledTemporaryFile(max_size=1 << 20, dir=os.path.join(STATE_DIR, "tmp"))
        length = 0
        try:
            while True:
                d = reader.read(1 << 20)
                if not d:
                    break
                length += len(d)
                if sha:
                    sha.update(d)
                if md5:
                    md5.update(d)
                for c in sums.values():
                    c.update(d)
                spool.write(d)
        except (ConnectionError, OSError, ValueError):
            spool.close()
            self.close_connection = True
            raise ConnectionError("request body")
        except S3Error:
            spool.close()
            self.close_connection = True  # the rest of the body is unread
            raise
        spool.seek(0)
        try:
            if aws_chunked and length != int(h.get("x-amz-decoded-content-length", -1)):
                raise S3Error(400, "IncompleteBody", "You did not provide the number of bytes specified by "
                              "the Content-Length HTTP header")
            if sha and sha.hexdigest() != csha:
                raise S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header "
                              "does not match what was computed.", ClientComputedContentSHA256=csha,
                              S3ComputedContentSHA256=sha.hexdigest())
            if md5:
                given = h["content-md5"]
                try:
                    raw = base64.b64decode(given, validate=True)
                except ValueError:
                    raw = b""
                if len(raw) != 16:
                    raise S3Error(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
                if raw != md5.digest():
                    raise S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.",
                                  ExpectedDigest=given, CalculatedDigest=base64.b64encode(md5.digest()).decode())
            for k, c in sums.items():
                given = h.get(k)
                if given is None and aws_chunked:
                    given = dec.trailers.get(k)
                if given is None:
                    raise S3Error(400, "InvalidRequest", "x-amz-trailer %s was not sent" % k)
                if base64.b64encode(c.digest()).decode() != given:
                    name = k[len("x-amz-checksum-"):].upper()
                    raise S3Error(400, "BadDigest", "The %s you specified did not match the calculated checksum." % name)
        except S3Error:
            spool.close()
            raise
        return spool, length

    # -- forwarding ------------------------------------------------------------
    def upstream(self, fresh=False):
        if fresh or getattr(self, "_up", None) is None:
            if getattr(self, "_up", None) is not None:
                self._up.close()
            port = None
            for _ in range(200):
                try:
                    with open(os.path.join(STATE_DIR, "s3rver.port")) as f:
                        port = int(f.read().strip())
                    break
                except (OSError, ValueError):
                    time.sleep(0.05)
            if port is None:
                raise S3Error(503, "ServiceUnavailable", "s3rver is not running")
            self._up = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        return self._up

    def forward(self, fwd_path, raw_query, h, spool, length):
        drop = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"}
        qs = "&".join(p for p in raw_query.split("&") if p and unquote(p.partition("=")[0]) not in drop)
        target = fwd_path + ("?" + qs if qs else "")
        out_headers = []
        for k, v in self.headers.items():
            lk = k.lower()
            if lk in HOP or lk in ("host", "authorization", "content-length", "x-amz-content-sha256",
                                   "x-amz-decoded-content-length", "x-amz-security-token", "x-amz-date",
                                   "x-amz-trailer"):
                continue
            if lk == "content-encoding":
                v = ",".join(c for c in (x.strip() for x in v.split(",")) if c and c != "aws-chunked")
                if not v:
                    continue
            out_headers.append((k, v))
        for attempt in (0, 1):
            conn = self.upstream(fresh=attempt > 0)
            try:
                conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
                conn.putheader("Host", "127.0.0.1:%d" % conn.port)
                for k, v in out_headers:
                    conn.putheader(k, v)
                if self.command not in ("GET", "HEAD", "DELETE") or length:
                    conn.putheader("Content-Length", str(length))
                conn.endheaders()
                spool.seek(0)
                while True:
                    d = spool.read(1 << 20)
                    if not d:
                        break
                    conn.send(d)
                resp = conn.getresponse()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                if attempt:
                    raise S3Error(503, "ServiceUnavailable", "s3rver did not answer")
        hdrs = []
        clen = None
        for k, v in resp.getheaders():
            lk = k.lower()
            if lk in HOP or lk == "content-length":
                if lk == "content-length":
                    clen = v
                continue
            hdrs.append((k, v))
        if not any(k.lower() == "x-amz-request-id" for k, _ in hdrs):
            hdrs.append(("x-amz-request-id", secrets.token_hex(8).upper()))
        rid = next(v for k, v in hdrs if k.lower() == "x-amz-request-id")
        if resp.status >= 400 and self.command != "HEAD" and clen is not None and int(clen) < 65536:
            # s3rver's errors lack S3's RequestId and HostId: add them.
            body = resp.read()
            if body.rstrip().endswith(b"</Error>") and b"<RequestId>" not in body:
                hid = base64.b64encode(secrets.token_bytes(48)).decode()
                body = body.rstrip()[:-len(b"</Error>")] + (
                    "<RequestId>%s</RequestId><HostId>%s</HostId></Error>" % (rid, hid)).encode()
            if b"<Code>" in body:
                self._entry["code"] = body.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode("utf-8", "replace")
            self.send_raw(resp.status, hdrs, body)
        elif self.command == "HEAD" or resp.status in (204, 304):
            if clen is not None:
                hdrs.append(("Content-Length", clen))
            resp.read()
            self.send_raw(resp.status, hdrs, b"", head=True)
        elif clen is not None:
            self.send_raw_stream(resp.status, hdrs + [("Content-Length", clen)], resp)
        else:
            body = resp.read()
            self.send_raw(resp.status, hdrs, body)
        if resp.will_close:
            self._up.close()
            self._up = None
        if resp.status >= 400 and self._entry.get("code") is None:
            self._entry["code"] = "upstream-%d" % resp.status

    def send_raw_stream(self, status, headers, resp):
        self._last_status = status
        self._entry["status"] = status
        self.send_response_only(status)
        for k, v in headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        while True:
            d = resp.read(1 << 20)
            if not d:
                break
            self.wfile.write(d)
        self.wfile.flush()

    def finish(self):
        if getattr(self, "_up", None) is not None:
            self._up.close()
        super().finish()

    # -- multipart bookkeeping from s3rver's data directory ------------------
    def upload_dir(self, bucket, key, upload_id):
        d = os.path.join(DATA_DIR, bucket, "._S3rver_uploads", upload_id)
        ok = re.fullmatch(r"[0-9a-f]{32}", upload_id or "") and os.path.isfile(os.path.join(d, "key"))
        if ok:
            with open(os.path.join(d, "key")) as f:
                ok = f.read() == key
        if not ok:
            raise S3Error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be "
                          "invalid, or the upload may have been aborted or completed.", UploadId=upload_id)
        return d

    @staticmethod
    def parts_of(up):
        parts = []
        for n in os.listdir(up):
            if n.isdigit():
                p = os.path.join(up, n)
                try:
                    with open(p + ".md5") as f:
                        md5 = f.read().strip()
                except OSError:
                    continue
                st = os.stat(p)
                parts.append({"n": int(n), "etag": md5, "size": st.st_size, "mtime": st.st_mtime})
        return sorted(parts, key=lambda p: p["n"])

    def send_xml(self, root_xml):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n' + root_xml).encode()
        self.send_raw(200, [("Content-Type", "application/xml"),
                            ("x-amz-request-id", secrets.token_hex(8).upper())], body)

    def list_parts(self, bucket, key, q, up):
        try:
            maxp = int(q.get("max-parts", 1000))
            marker = int(q.get("part-number-marker", 0) or 0)
        except ValueError:
            raise S3Error(400, "InvalidArgument", "Provided max-parts not an integer or within integer range")
        parts = [p for p in self.parts_of(up) if p["n"] > marker]
        trunc = len(parts) > maxp
        parts = parts[:maxp]
        x = ['<ListPartsResult xmlns="%s">' % S3NS,
             "<Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId>" % (
                 xml_escape(bucket), xml_escape(key), xml_escape(q["uploadId"])),
             "<Initiator>%s</Initiator><Owner>%s</Owner><StorageClass>STANDARD</StorageClass>" % (OWNER, OWNER),
             "<PartNumberMarker>%d</PartNumberMarker>" % marker,
             "<NextPartNumberMarker>%d</NextPartNumberMarker>" % (parts[-1]["n"] if parts else 0),
             "<MaxParts>%d</MaxParts><IsTruncated>%s</IsTruncated>" % (maxp, "true" if trunc else "false")]
        for p in parts:
            x.append("<Part><PartNumber>%d</PartNumber><LastModified>%s</LastModified>"
                     "<ETag>&quot;%s&quot;</ETag><Size>%d</Size></Part>" % (
                         p["n"], awspeer.iso8601(awspeer.datetime.datetime.utcfromtimestamp(p["mtime"])),
                         p["etag"], p["size"]))
        x.append("</ListPartsResult>")
        self.send_xml("".join(x))

    def list_uploads(self, bucket, q):
        self.discard_body()
        base = os.path.join(DATA_DIR, bucket, "._S3rver_uploads")
        ups = []
        if os.path.isdir(base):
            for uid in os.listdir(base):
                try:
                    with open(os.path.join(base, uid, "key")) as f:
                        k = f.read()
                    t = os.stat(os.path.join(base, uid, "key")).st_mtime
                except OSError:
                    continue
                if k.startswith(q.get("prefix", "")):
                    ups.append((k, uid, t))
        ups.sort()
        maxu = int(q.get("max-uploads", 1000))
        trunc = len(ups) > maxu
        ups = ups[:maxu]
        x = ['<ListMultipartUploadsResult xmlns="%s"><Bucket>%s</Bucket>' % (S3NS, xml_escape(bucket)),
             "<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>",
             "<NextKeyMarker>%s</NextKeyMarker><NextUploadIdMarker>%s</NextUploadIdMarker>" % (
                 xml_escape(ups[-1][0]) if ups else "", ups[-1][1] if ups else ""),
             "<MaxUploads>%d</MaxUploads><IsTruncated>%s</IsTruncated>" % (maxu, "true" if trunc else "false")]
        if q.get("prefix"):
            x.append("<Prefix>%s</Prefix>" % xml_escape(q["prefix"]))
        for k, uid, t in ups:
            x.append("<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiator>%s</Initiator><Owner>%s</Owner>"
                     "<StorageClass>STANDARD</StorageClass><Initiated>%s</Initiated></Upload>" % (
                         xml_escape(k), uid, OWNER, OWNER,
                         awspeer.iso8601(awspeer.datetime.datetime.utcfromtimestamp(t))))
        x.append("</ListMultipartUploadsResult>")
        self.send_xml("".join(x))

    def check_complete(self, bucket, key, q, spool):
        up = self.upload_dir(bucket, key, q.get("uploadId", ""))
        data = spool.read()
        spool.seek(0)
        malformed = S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not "
                            "validate against our published schema")
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            raise malformed
        strip = lambda t: t.rsplit("}", 1)[-1]  # noqa: E731
        if strip(root.tag) != "CompleteMultipartUpload":
            raise malformed
        listed = []
        for part in root:
            if strip(part.tag) != "Part":
                continue
            f = {strip(c.tag): (c.text or "").strip() for c in part}
            if "PartNumber" not in f or "ETag" not in f or not f["PartNumber"].isdigit():
                raise malformed
            listed.append((int(f["PartNumber"]), f["ETag"].strip('"')))
        if not listed:
            raise malformed
        have = {p["n"]: p for p in self.parts_of(up)}
        prev = 0
        for n, etag in listed:
            if n <= prev:
                raise S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order. Parts "
                              "must be ordered by part number.", UploadId=q["uploadId"])
            prev = n
            p = have.get(n)
            if p is None or p["etag"] != etag:
                raise S3Error(400, "InvalidPart", "One or more of the specified parts could not be found.  "
                              "The part may not have been uploaded, or the specified entity tag may not "
                              "match the part's entity tag.", UploadId=q["uploadId"], PartNumber=str(n),
                              ETag=etag)
        for n, etag in listed[:-1]:
            if have[n]["size"] < MIN_PART:
                raise S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum "
                              "allowed object size.", ProposedSize=str(have[n]["size"]),
                              MinSizeAllowed=str(MIN_PART), PartNumber=str(n), ETag=etag)


def main():
    global STATE_DIR, DATA_DIR
    STATE_DIR = os.path.abspath(sys.argv[1])
    DATA_DIR = os.path.join(STATE_DIR, "s3data")
    Handler.peer = awspeer.PeerState("s3", STATE_DIR)
    awspeer.serve(Handler, STATE_DIR, "s3proxy", int(os.environ.get("PEERS_S3_PORT", "0")))


if __name__ == "__main__":
    main()
