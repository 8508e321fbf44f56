"""An HTTP server on 127.0.0.1 that hands the request's `api_key` query
parameter and Authorization header back encoded by Python's standard
library, one section per encoder: "NAME\t<<VALUE>>\n". Prints
"READY <port>" once it listens. For tests/it/redaction.rs."""
import base64
import binascii
import html
import json
import quopri
import urllib.parse
import xml.sax.saxutils
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def forms(prefix: str, v: str) -> list:
    b = v.encode()
    return [
        (prefix + "json_dumps", json.dumps(v)),
        (prefix + "json_dumps_ensure_ascii_false", json.dumps(v, ensure_ascii=False)),
        (prefix + "json_dumps_twice", json.dumps(json.dumps(v))),
        (prefix + "urllib_quote", urllib.parse.quote(v)),
        (prefix + "urllib_quote_safe_none", urllib.parse.quote(v, safe="")),
        (prefix + "urllib_quote_plus", urllib.parse.quote_plus(v)),
        (prefix + "html_escape", html.escape(v)),
        (prefix + "saxutils_escape", xml.sax.saxutils.escape(v)),
        (prefix + "base64_encodebytes", base64.encodebytes(b).decode()),
        (prefix + "base64_urlsafe", base64.urlsafe_b64encode(b).decode()),
        (prefix + "quopri_encodestring", quopri.encodestring(b).decode()),
        (prefix + "binascii_hexlify", binascii.hexlify(b).decode()),
        (prefix + "repr_bytes", repr(b)),
        (prefix + "unicode_escape", v.encode("unicode_escape").decode()),
        (prefix + "json_of_encodebytes", json.dumps(base64.encodebytes(b).decode())),
    ]


class Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        out = forms("py_key_", q.get("api_key", [""])[0])
        out += forms("py_auth_", self.headers.get("Authorization", ""))
        body = "".join(f"{n}\t<<{v}>>\n" for n, v in out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
print(f"READY {server.server_address[1]}", flush=True)
server.serve_forever()
