#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/http_probe.py: sends a table of HTTP requests to one server and prints, per
# request, what the differential tests compare: status, Content-Range, Content-Length,
# Content-Type and the SHA-256 of the body, with a multipart boundary replaced by "BOUNDARY"
# (each server draws its own, of its own length) so that bodies of two servers can be compared
# byte for byte; Content-Length is then the normalized body's, and content_length_ok says
# whether the real Content-Length matched the real body.
#
#   http_probe.py HOST PORT CASES        CASES: lines "name|METHOD|path|Field: value;;Field: value"
#
# "{ETAG}" and "{LASTMOD}" in a field value are replaced by the ETag and Last-Modified this
# server gives the same path (a HEAD first), so If-Range cases work against servers whose
# validators differ. Output: one JSON object per case on stdout, in order.
import hashlib
import http.client
import json
import re
import sys


def probe(host, port, method, path, headers):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request(method, path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    fields = {k.lower(): v for k, v in resp.getheaders()}
    ctype = fields.get("content-type", "")
    length = fields.get("content-length")
    # Content-Length must describe the body as sent (HEAD: none is sent).
    length_ok = method == "HEAD" or length is None or int(length) == len(body)
    m = re.search(r"boundary=([0-9A-Za-z'()+_,./:=?-]+)", ctype)
    if m:
        boundary = m.group(1)
        body = body.replace(boundary.encode(), b"BOUNDARY")
        ctype = ctype.replace(boundary, "BOUNDARY")
        length = str(len(body))  # the length it would have with the normalized boundary
    return {
        "status": resp.status,
        "content_range": fields.get("content-range"),
        "content_length": length,
        "content_length_ok": length_ok,
        "content_type": ctype or None,
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_len": len(body),
        "etag": fields.get("etag"),
        "last_modified": fields.get("last-modified"),
    }


def main():
    host, port, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    validators = {}
    for line in open(cases):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        name, method, path, fields = (line.split("|") + [""])[:4]
        headers = {"Host": "edge"}
        for field in filter(None, fields.split(";;")):
            key, value = field.split(":", 1)
            if "{ETAG}" in value or "{LASTMOD}" in value:
                if path not in validators:
                    validators[path] = probe(host, port, "HEAD", path, {"Host": "edge"})
                value = value.replace("{ETAG}", validators[path]["etag"] or "")
                value = value.replace("{LASTMOD}", validators[path]["last_modified"] or "")
            headers[key.strip()] = value.strip()
        result = probe(host, port, method, path, headers)
        result["name"] = name
        print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
