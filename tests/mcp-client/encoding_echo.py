"""An HTTP server on 127.0.0.1 that hands every request's X-API-Key and
Authorization back in every encoding a careless API might use, for the
redaction tests. Prints "READY <port>" once it listens."""
import base64
import binascii
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
        "json": json.dumps(v),
    }


class Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        out = {h: forms(self.headers.get(h, "")) for h in ("X-API-Key", "Authorization")}
        body = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo-Key", out["X-API-Key"]["b64"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
print(f"READY {server.server_address[1]}", flush=True)
server.serve_forever()
