// An HTTP server on 127.0.0.1 that hands the request's `api_key` query
// parameter and Authorization header back encoded by Go's own libraries,
// one section per encoder: "NAME\t<<VALUE>>\n". /echo honours Range and
// If-Range (http.ServeContent); /partial always answers 206 with a slice.
// Prints "READY <port>" once it listens. For tests/it/redaction.rs.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"html/template"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func marshal(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func forms(prefix, v string) [][2]string {
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(v))
	w.Close()
	var noHTML bytes.Buffer
	enc := json.NewEncoder(&noHTML)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	var x bytes.Buffer
	xml.EscapeText(&x, []byte(v))
	return [][2]string{
		{prefix + "encoding_json", marshal(v)},
		{prefix + "encoding_json_no_html_escape", strings.TrimSpace(noHTML.String())},
		{prefix + "encoding_json_twice", marshal(marshal(v))},
		{prefix + "url_QueryEscape", url.QueryEscape(v)},
		{prefix + "url_PathEscape", url.PathEscape(v)},
		{prefix + "html_EscapeString", html.EscapeString(v)},
		{prefix + "template_HTMLEscapeString", template.HTMLEscapeString(v)},
		{prefix + "template_JSEscapeString", template.JSEscapeString(v)},
		{prefix + "xml_EscapeText", x.String()},
		{prefix + "strconv_Quote", strconv.Quote(v)},
		{prefix + "strconv_QuoteToASCII", strconv.QuoteToASCII(v)},
		{prefix + "base64_StdEncoding", base64.StdEncoding.EncodeToString([]byte(v))},
		{prefix + "base64_RawURLEncoding", base64.RawURLEncoding.EncodeToString([]byte(v))},
		{prefix + "hex_EncodeToString", hex.EncodeToString([]byte(v))},
		{prefix + "quotedprintable", qp.String()},
		{prefix + "url_in_json", marshal("https://x.example/?k=" + url.QueryEscape(v) + "&a=<b>")},
	}
}

func body(r *http.Request) []byte {
	var out bytes.Buffer
	all := forms("go_key_", r.URL.Query().Get("api_key"))
	all = append(all, forms("go_auth_", r.Header.Get("Authorization"))...)
	for _, f := range all {
		fmt.Fprintf(&out, "%s\t<<%s>>\n", f[0], f[1])
	}
	return out.Bytes()
}

var start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("ETag", `"echo"`)
		http.ServeContent(w, r, "", start, bytes.NewReader(body(r)))
	})
	mux.HandleFunc("/partial", func(w http.ResponseWriter, r *http.Request) {
		b := body(r)
		n := len(b) / 2
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", n-1, len(b)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(b[:n])
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("READY %d\n", ln.Addr().(*net.TCPAddr).Port)
	http.Serve(ln, mux)
}
