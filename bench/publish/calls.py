#!/usr/bin/env python3
"""Summarises the S3 proxy's calls log (GET $PEERS_ADMIN_S3/calls, on stdin)
for bench/publish.sh, as one line of key=value pairs:

  reqs      requests seen
  head put part list create complete other
            requests by operation (HeadObject, PutObject, UploadPart,
            ListObjectsV2, CreateMultipartUpload, CompleteMultipartUpload)
  put_ok part_ok complete_ok
            of those, answered 2xx
  errors    answers >= 400, but a HeadObject's 404 (the expected "not there")
  inflight  the most requests in flight at once (each call's interval is
            [time, time + ms], as the proxy measures it)
  mb_in     request body bytes the proxy received, in MB (1e6)
  busy_ms   the summed time the proxy spent on the calls
"""
import json
import sys

OPS = {"HeadObject": "head", "PutObject": "put", "UploadPart": "part",
       "ListObjectsV2": "list", "CreateMultipartUpload": "create",
       "CompleteMultipartUpload": "complete"}


def main():
    calls = json.load(sys.stdin).get("calls", [])
    n = {k: 0 for k in list(OPS.values()) + ["other", "put_ok", "part_ok", "complete_ok"]}
    errors = 0
    events = []
    mb_in = 0
    busy = 0
    for c in calls:
        op = OPS.get(c.get("op"), "other")
        n[op] += 1
        st = c.get("status") or 0
        if op in ("put", "part", "complete") and 200 <= st < 300:
            n[op + "_ok"] += 1
        if (st >= 400 and not (op == "head" and st == 404)) or st == 0:
            errors += 1
        t0 = float(c.get("time") or 0)
        ms = int(c.get("ms") or 0)
        busy += ms
        events.append((t0, 1))
        events.append((t0 + ms / 1000.0, -1))
        mb_in += int(c.get("bytes_in") or 0)
    events.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    cur = peak = 0
    for _, d in events:
        cur += d
        peak = max(peak, cur)
    out = dict(reqs=len(calls), errors=errors, inflight=peak, mb_in="%.1f" % (mb_in / 1e6),
               busy_ms=busy, **n)
    print(" ".join("%s=%s" % kv for kv in out.items()))


if __name__ == "__main__":
    main()
