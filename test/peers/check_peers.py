#!/usr/bin/python3
"""Raw-HTTP checks of the S3 proxy and the endpoint that the aws CLI cannot
make: virtual-host style, keep-alive, 100-continue, bad digests, chunked
and aws-chunked bodies, presigned URLs, unsigned x-amz-* headers. Requests
are signed with botocore. Prints TAP-style lines. Needs the env of
`peers.sh start`; BUCKET names an existing bucket."""

import base64
import hashlib
import http.client
import json
import os
import socket
import sys
import zlib
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FAILED = 0
E = os.environ
CREDS = Credentials(E["AWS_ACCESS_KEY_ID"], E["AWS_SECRET_ACCESS_KEY"])
S3 = urlsplit(E["AWS_ENDPOINT_URL_S3"])
EP = urlsplit(E["AWS_ENDPOINT_URL_CLOUDFORMATION"])
BUCKET = E["BUCKET"]


def check(cond, msg, *diag):
    global FAILED
    print(("ok - " if cond else "not ok - ") + msg)
    if not cond:
        FAILED += 1
        for d in diag:
            for line in str(d).splitlines()[:15]:
                print("#   " + line)


class FixedPayload(S3SigV4Auth):
    """botocore's S3 signer with a given x-amz-content-sha256 value."""

    def __init__(self, value, *a):
        super().__init__(*a)
        self.value = value

    def payload(self, request):
        return self.value


def signed(method, url, body=b"", headers=None, service="s3", payload=None):
    """(path+query, headers) signed by botocore, Host header included."""
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    req.headers["Host"] = urlsplit(url).netloc
    if service == "s3":
        if payload is not None:
            FixedPayload(payload, CREDS, "s3", "us-east-1").add_auth(req)
        else:
            S3SigV4Auth(CREDS, "s3", "us-east-1").add_auth(req)
    else:
        SigV4Auth(CREDS, service, "us-east-1").add_auth(req)
    u = urlsplit(req.url)
    return u.path + ("?" + u.query if u.query else ""), dict(req.headers.items())


def send(conn, method, target, headers, body=b""):
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    if body:
        conn.send(body)
    r = conn.getresponse()
    return r.status, r.read(), r


def s3conn():
    return http.client.HTTPConnection(S3.hostname, S3.port, timeout=20)


def code_of(body):
    b = body.decode("utf-8", "replace")
    return b.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in b else b[:200]


base = "http://%s:%d" % (S3.hostname, S3.port)

# --- keep-alive, path style and virtual-host style ----------------------------
c = s3conn()
t, h = signed("PUT", "%s/%s/raw/path.txt" % (base, BUCKET), b"path style")
st, body, _ = send(c, "PUT", t, h, b"path style")
check(st == 200, "raw PUT path-style accepted", st, body)
vhost = "%s.localhost:%d" % (BUCKET, S3.port)
t, h = signed("PUT", "http://%s/raw/vhost%%20key.txt" % vhost, b"vhost style")
st, body, _ = send(c, "PUT", t, h, b"vhost style")
check(st == 200, "raw PUT virtual-host style (Host: BUCKET.localhost:PORT) accepted on the same connection", st, body)
t, h = signed("GET", "%s/%s/raw/vhost%%20key.txt" % (base, BUCKET))
st, body, _ = send(c, "GET", t, h)
check(st == 200 and body == b"vhost style", "object written virtual-host style reads back path style", st, body)
t, h = signed("GET", "http://%s/?list-type=2&prefix=raw%%2F" % vhost)
st, body, _ = send(c, "GET", t, h)
check(st == 200 and b"<Key>raw/path.txt</Key>" in body, "ListObjectsV2 virtual-host style", st, body)

# --- integrity -----------------------------------------------------------------
data = b"integrity check body"
md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
t, h = signed("PUT", "%s/%s/raw/md5.txt" % (base, BUCKET), data, {"Content-MD5": md5})
st, body, _ = send(c, "PUT", t, h, data)
check(st == 400 and code_of(body) == "BadDigest", "wrong Content-MD5: 400 BadDigest", st, body)
good = base64.b64encode(hashlib.md5(data).digest()).decode()
t, h = signed("PUT", "%s/%s/raw/md5.txt" % (base, BUCKET), data, {"Content-MD5": good})
st, body, _ = send(c, "PUT", t, h, data)
check(st == 200, "right Content-MD5 accepted (connection kept after a 400)", st, body)
t, h = signed("PUT", "%s/%s/raw/sha.txt" % (base, BUCKET), data, payload=hashlib.sha256(b"x").hexdigest())
st, body, _ = send(c, "PUT", t, h, data)
check(st == 400 and code_of(body) == "XAmzContentSHA256Mismatch",
      "x-amz-content-sha256 not the body's: 400 XAmzContentSHA256Mismatch", st, body)
t, h = signed("PUT", "%s/%s/raw/unsigned.txt" % (base, BUCKET), data, payload="UNSIGNED-PAYLOAD")
st, body, _ = send(c, "PUT", t, h, data)
check(st == 200, "UNSIGNED-PAYLOAD accepted", st, body)
sha = base64.b64encode(hashlib.sha256(b"nope").digest()).decode()
t, h = signed("PUT", "%s/%s/raw/cks.txt" % (base, BUCKET), data, {"x-amz-checksum-sha256": sha})
st, body, _ = send(c, "PUT", t, h, data)
check(st == 400 and code_of(body) == "BadDigest", "wrong x-amz-checksum-sha256: 400 BadDigest", st, body)

# --- headers that must be signed -------------------------------------------------
t, h = signed("PUT", "%s/%s/raw/acl.txt" % (base, BUCKET), data)
h["x-amz-meta-extra"] = "not signed"
st, body, _ = send(c, "PUT", t, h, data)
check(st == 403 and code_of(body) == "AccessDenied" and b"HeadersNotSigned" in body,
      "an unsigned x-amz-* header: 403 AccessDenied HeadersNotSigned", st, body)
c.close()

# --- 100-continue ------------------------------------------------------------------
s = socket.create_connection((S3.hostname, S3.port), timeout=10)
big = b"z" * 100000
t, h = signed("PUT", "%s/%s/raw/expect.txt" % (base, BUCKET), big, {"Expect": "100-continue"})
h["Content-Length"] = str(len(big))
s.sendall(("PUT %s HTTP/1.1\r\n" % t).encode() + b"".join(
    ("%s: %s\r\n" % (k, v)).encode() for k, v in h.items()) + b"\r\n")
first = s.recv(100)
check(first.startswith(b"HTTP/1.1 100 Continue"), "Expect: 100-continue answered with 100 after the signature check", first)
s.sendall(big)
rest = b""
while b"\r\n\r\n" not in rest:
    rest += s.recv(4096)
check(b"HTTP/1.1 200" in rest, "then 200 for the body", rest[:200])
s.close()
s = socket.create_connection((S3.hostname, S3.port), timeout=10)
bad = dict(h)
bad["Authorization"] = bad["Authorization"][:-4] + "0000"
s.sendall(("PUT %s HTTP/1.1\r\n" % t).encode() + b"".join(
    ("%s: %s\r\n" % (k, v)).encode() for k, v in bad.items()) + b"\r\n")
resp = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    resp += d
check(resp.startswith(b"HTTP/1.1 403") and b"SignatureDoesNotMatch" in resp and b"Connection: close" in resp,
      "Expect: 100-continue with a bad signature: 403 before the body, connection closed", resp[:300])
s.close()

# --- chunked and aws-chunked bodies --------------------------------------------------
c = s3conn()
t, h = signed("PUT", "%s/%s/raw/chunked.txt" % (base, BUCKET), b"", payload="UNSIGNED-PAYLOAD")
h.pop("Content-Length", None)
h["Transfer-Encoding"] = "chunked"
st, body, _ = send(c, "PUT", t, h, b"5\r\nhello\r\n0\r\n\r\n")
check(st == 501 and code_of(body) == "NotImplemented", "PUT with Transfer-Encoding: chunked: 501 NotImplemented as S3", st, body)
c.close()

c = s3conn()
payload = os.urandom(200000)
chunks = [payload[i:i + 65536] for i in range(0, len(payload), 65536)] + [b""]
enc_len = sum(len("%x;chunk-signature=%s\r\n" % (len(ch), "0" * 64)) + len(ch) + 2 for ch in chunks)
req = AWSRequest(method="PUT", url="%s/%s/raw/aws-chunked.bin" % (base, BUCKET), data=b"",
                 headers={"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(payload)),
                          "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                          "Content-Length": str(enc_len)})
req.headers["Host"] = "%s:%d" % (S3.hostname, S3.port)
signer = FixedPayload("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", CREDS, "s3", "us-east-1")
signer.add_auth(req)
stamp = req.headers["X-Amz-Date"]
seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
key = signer._sign(("AWS4" + CREDS.secret_key).encode(), stamp[:8])
for part in ("us-east-1", "s3", "aws4_request"):
    key = signer._sign(key, part)
prev, out = seed, b""
for ch in chunks:
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", stamp, "%s/us-east-1/s3/aws4_request" % stamp[:8], prev,
                     hashlib.sha256(b"").hexdigest(), hashlib.sha256(ch).hexdigest()])
    prev = signer._sign(key, sts, hex=True)
    out += ("%x;chunk-signature=%s\r\n" % (len(ch), prev)).encode() + ch + b"\r\n"
u = urlsplit(req.url)
st, body, _ = send(c, "PUT", u.path, dict(req.headers.items()), out)
check(st == 200, "aws-chunked STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload accepted (chunk signatures checked)", st, body)
t, h = signed("GET", "%s/%s/raw/aws-chunked.bin" % (base, BUCKET))
st, body, _ = send(c, "GET", t, h)
check(st == 200 and body == payload, "aws-chunked object reads back decoded", st, len(body))
tampered = out.replace(chunks[1][:16], bytes(16), 1) if chunks[1][:16] != bytes(16) else out
st, body, _ = send(c, "PUT", u.path, dict(req.headers.items()), tampered)
check(st == 403 and code_of(body) == "SignatureDoesNotMatch", "aws-chunked body with a changed chunk: 403 SignatureDoesNotMatch", st, body)

payload = b"trailer checksum body " * 1000
crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
out = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(payload), payload, crc.encode())
hd = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(payload)),
      "x-amz-trailer": "x-amz-checksum-crc32", "Content-Length": str(len(out))}
t, h = signed("PUT", "%s/%s/raw/trailer.bin" % (base, BUCKET), b"", hd, payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
st, body, _ = send(c, "PUT", t, h, out)
check(st == 200, "aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER upload with a CRC32 trailer accepted", st, body)
bad = out.replace(crc.encode(), base64.b64encode(b"\0\0\0\0"))
st, body, _ = send(c, "PUT", t, h, bad)
check(st == 400 and code_of(body) == "BadDigest", "a wrong CRC32 trailer: 400 BadDigest", st, body)
c.close()

# --- presigned URL ---------------------------------------------------------------------
req = AWSRequest(method="GET", url="%s/%s/raw/path.txt" % (base, BUCKET))
S3SigV4QueryAuth(CREDS, "s3", "us-east-1", expires=60).add_auth(req)
u = urlsplit(req.url)
c = s3conn()
st, body, _ = send(c, "GET", u.path + "?" + u.query, {"Host": "%s:%d" % (S3.hostname, S3.port)})
check(st == 200 and body == b"path style", "presigned GET URL works", st, body)
st, body, _ = send(c, "GET", u.path.replace("path", "xpath") + "?" + u.query, {"Host": "%s:%d" % (S3.hostname, S3.port)})
check(st == 403 and code_of(body) == "SignatureDoesNotMatch", "presigned URL for another key: 403 SignatureDoesNotMatch", st, body)
c.close()

# --- endpoint: keep-alive, chunked body, unknown action ----------------------------------
c = http.client.HTTPConnection(EP.hostname, EP.port, timeout=20)
ep = "http://%s:%d/" % (EP.hostname, EP.port)
form = b"Action=GetCallerIdentity&Version=2011-06-15"
for i in range(2):
    t, h = signed("POST", ep, form, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="sts")
    st, body, r = send(c, "POST", t, h, form)
    check(st == 200 and b"<Account>123456789012</Account>" in body and r.getheader("x-amzn-RequestId"),
          "endpoint: GetCallerIdentity #%d on one keep-alive connection, with x-amzn-RequestId" % (i + 1), st, body)
t, h = signed("POST", ep, form, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="sts")
h.pop("Content-Length", None)
h["Transfer-Encoding"] = "chunked"
st, body, r = send(c, "POST", t, h, b"%x\r\n%s\r\n0\r\n\r\n" % (len(form), form))
check(st == 200 and b"GetCallerIdentityResult" in body, "endpoint: chunked request body", st, body)
form2 = b"Action=NoSuchThing&Version=2010-05-15"
t, h = signed("POST", ep, form2, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="cloudformation")
st, body, r = send(c, "POST", t, h, form2)
check(st == 400 and b"<Code>InvalidAction</Code>" in body and b"<Type>Sender</Type>" in body,
      "endpoint: unknown Action: 400 InvalidAction", st, body)
t, h = signed("POST", ep, form, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="sts")
h["X-Amz-Date"] = "20200101T000000Z"
st, body, r = send(c, "POST", t, h, form)
check(st == 403 and b"SignatureDoesNotMatch" in body, "endpoint: a changed X-Amz-Date: 403 SignatureDoesNotMatch", st, body)

# CloudFormation Query lists: Parameters.member.N.ParameterKey, XML <member> lists back.
from urllib.parse import urlencode  # noqa: E402
tpl = ('{"Parameters": {"Env": {"Type": "String", "Default": "dev", "Description": "the env"}}, '
       '"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}}}')
form3 = urlencode([("Action", "ValidateTemplate"), ("Version", "2010-05-15"), ("TemplateBody", tpl)]).encode()
t, h = signed("POST", ep, form3, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="cloudformation")
st, body, r = send(c, "POST", t, h, form3)
check(st == 200 and b'<ValidateTemplateResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">' in body
      and b"<Parameters><member><ParameterKey>Env</ParameterKey><DefaultValue>dev</DefaultValue>" in body
      and b"<Capabilities><member>CAPABILITY_IAM</member></Capabilities>" in body,
      "endpoint: ValidateTemplate answers AWS's XML with <member> lists", st, body)
form4 = urlencode([("Action", "CreateStack"), ("Version", "2010-05-15"), ("StackName", "raw-check"),
                   ("TemplateBody", tpl), ("Parameters.member.1.ParameterKey", "Env"),
                   ("Parameters.member.1.ParameterValue", "prod"), ("Parameters.member.2.ParameterKey", "Nope"),
                   ("Parameters.member.2.ParameterValue", "x"), ("Capabilities.member.1", "CAPABILITY_IAM")]).encode()
t, h = signed("POST", ep, form4, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="cloudformation")
st, body, r = send(c, "POST", t, h, form4)
check(st == 400 and b"<Code>ValidationError</Code>" in body and b"Parameters: [Nope] do not exist in the template" in body,
      "endpoint: Parameters.member.N decoded (an unknown key: AWS's ValidationError)", st, body)

# SSM (JSON 1.1 on the same port).
req = json.dumps({"Name": "/check/none"}).encode()
jh = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.NoSuchOp"}
t, h = signed("POST", ep, req, jh, service="ssm")
st, body, r = send(c, "POST", t, h, req)
check(st == 400 and json.loads(body).get("__type") == "UnknownOperationException",
      "endpoint: SSM unknown X-Amz-Target: 400 UnknownOperationException (JSON)", st, body)
jh["X-Amz-Target"] = "AmazonSSM.GetParameter"
st, body, r = send(c, "POST", "/", dict(jh, Host="%s:%d" % (EP.hostname, EP.port)), req)
check(st == 400 and json.loads(body).get("__type") == "MissingAuthenticationTokenException"
      and r.getheader("Content-Type") == "application/x-amz-json-1.1",
      "endpoint: SSM without a signature: 400 MissingAuthenticationTokenException (JSON)", st, body)
t, h = signed("POST", ep, req, jh, service="ssm")
st, body, r = send(c, "POST", t, h, req)
check(st == 400 and json.loads(body) == {"__type": "ParameterNotFound", "message": ""},
      "endpoint: SSM GetParameter of a missing name: ParameterNotFound", st, body)
c.close()

sys.exit(1 if FAILED else 0)
