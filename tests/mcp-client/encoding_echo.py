"""An HTTP server on 127.0.0.1 that hands every request's X-API-Key and
Authorization back in every encoding a careless API might use, for the
redaction tests. Prints "READY <port>" once it listens."""
import base64
import binascii
import gzip
import json
import re
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def forms(v: str) -> dict:
    b = v.encode()
    return {
        "raw": v,
        "b64": base64.b64encode(b).decode(),
        "b64url": base64.urlsafe_b64encode(b).decode(),
        "b64url_nopad": base64.urlsafe_b64encode(b).decode().rstrip("="),
        "b64_inside": base64.b64encode(b"prefix:" + b + b":suffix").decode(),
        "pct": urllib.parse.quote(v, safe=""),
        "pct_lower": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), urllib.parse.quote(v, safe="")),
        "form": urllib.parse.quote_plus(v),
        "hex": binascii.hexlify(b).decode(),
        "HEX": binascii.hexlify(b).decode().upper(),
        "json": json.dumps(v),
    }


def json_escapes(v: str) -> tuple:
    """A JSON document's own escapes, at its top level: PHP's json_encode
    escapes '/'; some encoders write every character as \\uXXXX."""
    return (json.dumps(v).replace("/", "\\/"), '"' + "".join(f"\\u{ord(c):04x}" for c in v) + '"')


class Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        out = {h: forms(self.headers.get(h, "")) for h in ("X-API-Key", "Authorization")}
        body = json.dumps(out).encode()
        self.send_response(200)
        if self.path == "/gzip":
            # Compressed whatever the client asked for.
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo-Key", out["X-API-Key"]["b64"])
        slash, uesc = json_escapes(self.headers.get("X-API-Key", ""))
        self.send_header("X-Echo-Slash", slash)
        self.send_header("X-Echo-U", uesc)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
print(f"READY {server.server_address[1]}", flush=True)
server.serve_forever()
