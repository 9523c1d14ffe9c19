#!/usr/bin/env python3
"""A tiny HTTP server for test_http.c: behaviour chosen by the path.

  /flaky/ID/STATUS/N[/CODE]  the first N requests for ID answer STATUS (with an
                             AWS XML error CODE, default InternalError), then 200
  /reset/ID/N                the first N requests for ID get the connection reset
  /slow/MS                   answer after MS milliseconds
  /error/STATUS/CODE         always STATUS with an AWS XML (Query style) error
  /json-error/STATUS/CODE    always STATUS with an AWS JSON error
  /html/STATUS[/TYPE]        always STATUS with a proxy's HTML error page (nginx's
                             502 page) as TYPE (default text/html; "plain":
                             text/plain, "none": no Content-Type)
  /text/STATUS               always STATUS with a line of plain text
  /empty/STATUS              always STATUS with no body
  /echo                      200 with JSON: method, path, headers, body length and sha256
  /count/ID                  200 with how many requests ID has seen
Listens on 127.0.0.1, port 0 (the kernel picks one); prints the port on stdout.
"""
import hashlib
import http.server
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time

seen = {}
lock = threading.Lock()


def hit(key):
    with lock:
        seen[key] = seen.get(key, 0) + 1
        return seen[key]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, data, ctype="application/xml", extra=None):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amz-request-id", "REQ-%d" % hit("requests"))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def xml_error(self, status, code):
        self.send(status, ("<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"
                           "<Message>fake %s</Message></Error><RequestId>rid-%s</RequestId>"
                           "</ErrorResponse>" % (code, code, code)).encode())

    def handle_any(self):
        data = self.body()
        parts = self.path.split("?")[0].strip("/").split("/")
        kind = parts[0]
        if kind == "flaky":
            key, status, n = parts[1], int(parts[2]), int(parts[3])
            code = parts[4] if len(parts) > 4 else "InternalError"
            if hit("flaky/" + key) <= n:
                return self.xml_error(status, code)
            return self.send(200, b"<ok/>")
        if kind == "reset":
            if hit("reset/" + parts[1]) <= int(parts[2]):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            return self.send(200, b"<ok/>")
        if kind == "slow":
            time.sleep(int(parts[1]) / 1000)
            return self.send(200, b"<ok/>")
        if kind == "error":
            return self.xml_error(int(parts[1]), parts[2])
        if kind == "json-error":
            doc = json.dumps({"__type": "com.amazonaws.ssm#" + parts[2],
                              "message": "fake " + parts[2]}).encode()
            return self.send(int(parts[1]), doc, "application/x-amz-json-1.1")
        if kind == "html":
            page = (b"<!DOCTYPE html>\r\n<html>\r\n<head><title>502 Bad\r\n  Gateway</title>"
                    b"</head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
                    b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
            ctype = {"plain": "text/plain", "none": None}.get(
                parts[2] if len(parts) > 2 else "", "text/html; charset=utf-8")
            return self.send(int(parts[1]), page, ctype)
        if kind == "text":
            return self.send(int(parts[1]), b"upstream connect error\n", "text/plain")
        if kind == "empty":
            return self.send(int(parts[1]), b"", None)
        if kind == "count":
            return self.send(200, str(seen.get("/".join(parts[1:]), 0)).encode(), "text/plain")
        if kind == "echo":
            doc = {"method": self.command, "path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "length": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                   "peer": self.client_address[1]}
            return self.send(200, json.dumps(doc).encode(), "application/json")
        self.send(404, b"<Error><Code>NoSuchPath</Code></Error>")

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Handler)
# The port, then stdout goes away: the test reads one line and closes the
# pipe, and nothing written later may kill the server with EPIPE.
os.write(1, b"%d\n" % srv.server_address[1])
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
srv.serve_forever()
