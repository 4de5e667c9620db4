/* The smuggling corpus: ambiguous framing and malformed heads (RFC 9112 6.1, 6.3, 2.2). */
#include "smuggle_corpus.h"

#define H "Host: t\r\n"
#define CASE(n, s, st)                                                                             \
    {                                                                                              \
        n, s, sizeof(s) - 1, st                                                                    \
    }

const smuggle_case_t smuggle_corpus[] = {
    /* Content-Length and Transfer-Encoding together */
    CASE("CL then TE",
         "POST /e HTTP/1.1\r\n" H
         "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400),
    CASE("TE then CL",
         "POST /e HTTP/1.1\r\n" H
         "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
         400),
    CASE("CL and unknown TE",
         "POST /e HTTP/1.1\r\n" H "Content-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\nabc", 501),
    /* Transfer-Encoding variants */
    CASE("TE chunked, chunked",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
    CASE("TE chunked, identity",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
    CASE("TE space before colon",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    CASE("TE vertical tab",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding:\x0b"
         "chunked\r\n\r\n0\r\n\r\n",
         400),
    CASE("TE obs-fold", "POST /e HTTP/1.1\r\n" H "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
         400),
    CASE("TE folded after value",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n identity\r\n\r\n0\r\n\r\n", 400),
    CASE("TE xchunked", "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
         501),
    CASE("TE identity", "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\n", 501),
    CASE("TE twice",
         "POST /e HTTP/1.1\r\n" H
         "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400),
    CASE("TE quoted", "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n",
         400),
    CASE("TE in HTTP/1.0", "POST /e HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    /* Content-Length variants */
    CASE("CL differing duplicates",
         "POST /e HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
    CASE("CL identical duplicates",
         "POST /e HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
    CASE("CL list", "POST /e HTTP/1.1\r\n" H "Content-Length: 5, 6\r\n\r\nhello!", 400),
    CASE("CL plus sign", "POST /e HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\nhello", 400),
    CASE("CL minus sign", "POST /e HTTP/1.1\r\n" H "Content-Length: -5\r\n\r\nhello", 400),
    CASE("CL hex", "POST /e HTTP/1.1\r\n" H "Content-Length: 0x5\r\n\r\nhello", 400),
    CASE("CL leading zero", "POST /e HTTP/1.1\r\n" H "Content-Length: 05\r\n\r\nhello", 400),
    CASE("CL inner space", "POST /e HTTP/1.1\r\n" H "Content-Length: 5 5\r\n\r\nhello", 400),
    CASE("CL trailing letter", "POST /e HTTP/1.1\r\n" H "Content-Length: 5a\r\n\r\nhello", 400),
    CASE("CL overflow",
         "POST /e HTTP/1.1\r\n" H "Content-Length: 99999999999999999999999\r\n\r\nhello", 400),
    CASE("CL empty", "POST /e HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", 400),
    CASE("CL space before colon", "POST /e HTTP/1.1\r\n" H "Content-Length : 5\r\n\r\nhello", 400),
    /* chunked body framing */
    CASE("chunk size overflow",
         "POST /e HTTP/1.1\r\n" H
         "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff1\r\nx\r\n0\r\n\r\n",
         400),
    CASE("chunk size negative",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n", 400),
    CASE("chunk size 0x prefix",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
         400),
    CASE("chunk size space before CRLF",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
         400),
    CASE("chunk data without CRLF",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
    CASE("chunk bare LF",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", 400),
    CASE("chunk extension control char",
         "POST /e HTTP/1.1\r\n" H
         "Transfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n",
         400),
    CASE("trailer obs-fold",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", 400),
    CASE("trailer bare LF",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\n\r\n", 400),
    /* line endings and control characters */
    CASE("LF-only request", "GET /e HTTP/1.1\nHost: t\n\n", 400),
    CASE("LF-only header line", "GET /e HTTP/1.1\r\nHost: t\n\r\n", 400),
    CASE("LF-only end of head", "GET /e HTTP/1.1\r\nHost: t\r\n\n", 400),
    CASE("CR alone in value", "GET /e HTTP/1.1\r\n" H "X-A: a\rb\r\n\r\n", 400),
    CASE("NUL in header value", "GET /e HTTP/1.1\r\n" H "X-A: a\0b\r\n\r\n", 400),
    CASE("NUL in header name", "GET /e HTTP/1.1\r\n" H "X\0A: b\r\n\r\n", 400),
    CASE("NUL in target", "GET /e\0x HTTP/1.1\r\n" H "\r\n", 400),
    CASE("DEL in value", "GET /e HTTP/1.1\r\n" H "X-A: a\x7f\r\n\r\n", 400),
    CASE("obs-fold ordinary header", "GET /e HTTP/1.1\r\n" H "X-A: a\r\n\tb\r\n\r\n", 400),
    CASE("space in header name", "GET /e HTTP/1.1\r\n" H "Bad Name: x\r\n\r\n", 400),
    CASE("header without colon", "GET /e HTTP/1.1\r\n" H "NoColon\r\n\r\n", 400),
    CASE("empty header name", "GET /e HTTP/1.1\r\n" H ": x\r\n\r\n", 400),
    /* request line */
    CASE("two spaces after method", "GET  /e HTTP/1.1\r\n" H "\r\n", 400),
    CASE("two spaces before version", "GET /e  HTTP/1.1\r\n" H "\r\n", 400),
    CASE("trailing space", "GET /e HTTP/1.1 \r\n" H "\r\n", 400),
    CASE("tab separator", "GET\t/e HTTP/1.1\r\n" H "\r\n", 400),
    CASE("absolute-form", "GET http://other.example/e HTTP/1.1\r\n" H "\r\n", 400),
    CASE("authority-form", "CONNECT t:443 HTTP/1.1\r\n" H "\r\n", 400),
    CASE("asterisk-form", "OPTIONS * HTTP/1.1\r\n" H "\r\n", 400),
    CASE("fragment in target", "GET /e#x HTTP/1.1\r\n" H "\r\n", 400),
    CASE("lowercase protocol", "GET /e http/1.1\r\n" H "\r\n", 400),
    CASE("HTTP/1.10", "GET /e HTTP/1.10\r\n" H "\r\n", 400),
    CASE("HTTP/2.0", "GET /e HTTP/2.0\r\n" H "\r\n", 505),
    CASE("HTTP/1.2", "GET /e HTTP/1.2\r\n" H "\r\n", 505),
    CASE("HTTP/0.9 style", "GET /e\r\n\r\n", 400),
    CASE("bad method char", "G@T /e HTTP/1.1\r\n" H "\r\n", 400),
    CASE("missing Host", "GET /e HTTP/1.1\r\n\r\n", 400),
    CASE("two Hosts", "GET /e HTTP/1.1\r\n" H "Host: u\r\n\r\n", 400),
    CASE("encoded NUL in path", "GET /e%00x HTTP/1.1\r\n" H "\r\n", 400),
    CASE("bad percent escape", "GET /e%zz HTTP/1.1\r\n" H "\r\n", 400),
    CASE("unknown expectation",
         "POST /e HTTP/1.1\r\n" H "Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417),
    /* controls: unambiguous requests that must be served */
    CASE("plain GET", "GET /e HTTP/1.1\r\n" H "\r\n", 200),
    CASE("chunked with extension and trailers",
         "POST /e HTTP/1.1\r\n" H
         "Transfer-Encoding: chunked\r\n\r\n5;name=\"v\"\r\nhello\r\n0\r\nContent-Length: "
         "99\r\nX-T: 1\r\n\r\n",
         200),
    CASE("Chunked in mixed case",
         "POST /e HTTP/1.1\r\n" H "Transfer-Encoding: ChUnKeD\r\n\r\n0\r\n\r\n", 200),
    CASE("CL with OWS", "POST /e HTTP/1.1\r\n" H "Content-Length:\t5 \r\n\r\nhello", 200),
    CASE("expect 100-continue with early body",
         "POST /e HTTP/1.1\r\n" H "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", 200),
    CASE("leading empty line", "\r\nGET /e HTTP/1.1\r\n" H "\r\n", 200),
    CASE("HTTP/1.0 keep-alive", "GET /e HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200),
};

const size_t smuggle_corpus_len = sizeof smuggle_corpus / sizeof smuggle_corpus[0];
