/* htpc.h: HTTP client mode (spec §6.5), pure: request bytes out, response bytes in.
 *
 * One serial frame is one request on a new TCP connection. m0__htpc_request() builds the
 * request bytes from the running configuration; struct m0__htpc_resp follows the
 * response with llhttp as its bytes arrive (any split) and hands the caller what goes to
 * the UART: the whole response byte for byte (HTPCHD=off) or only its de-chunked body
 * (HTPCHD=on). The caller owns the connection: it closes it when the response is done,
 * on an error (after an event), and reports the server's close with m0__htpc_resp_eof().
 * No HTTP is parsed by hand: llhttp decides where a response ends.
 */
#ifndef M0_CORE_HTPC_H
#define M0_CORE_HTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "m0/dev.h"
#include "m0/params.h"

enum m0__htpc_result {
  M0__HTPC_MORE = 0,         /* the response goes on: feed more */
  M0__HTPC_DONE = 1,         /* the response is complete */
  M0__HTPC_ENOSPC = -1,      /* request: does not fit the caller's buffer */
  M0__HTPC_EMALFORMED = -2,  /* response: not HTTP, or broken (llhttp's reason) */
  M0__HTPC_ETRUNCATED = -3,  /* response: the server closed before its end, or sent none */
};

/* Enough for any request built from a valid configuration and a frame of at most
 * M0_FRAME_MAX bytes: the worst case is a GET whose 400 frame bytes all need %XX
 * (1200 bytes of target) with the longest HTPURL, host and HTPHEAD: 1492 bytes. */
#define M0__HTPC_REQUEST_MAX 1536

/* Build the request for one frame into out. GET: `GET <HTPURL><frame> HTTP/1.1`; POST:
 * `POST <HTPURL> HTTP/1.1` with the frame as the body and a Content-Length header. Then
 * `Host: <SOCK address>[:<port> unless 80]`, HTPHEAD's lines (<<CRLF>> separates them;
 * empty lines are dropped so the header block always ends with exactly one blank line),
 * and for POST `Content-Length: N`. The request target is percent-encoded where needed
 * (see htpc.c). Returns the length, or M0__HTPC_ENOSPC (out's contents then undefined). */
int m0__htpc_request(const struct m0_config *cfg, const uint8_t *frame, size_t len,
                     uint8_t *out, size_t cap);

/* Where response bytes for the UART go. Called zero or more times per feed, in order. */
typedef void (*m0__htpc_deliver_fn)(void *arg, const uint8_t *data, size_t len);

/* One response being received. Plain data (no pointers into itself): it may be embedded
 * and copied between calls. */
struct m0__htpc_resp {
  llhttp_t parser;
  bool body_only;  /* HTPCHD=on */
  int result;      /* enum m0__htpc_result: MORE until done or failed, then sticky */
  const char *reason; /* why it failed (static string), NULL otherwise */
  const char *code;   /* llhttp's error name, e.g. "HPE_INVALID_CONSTANT", or NULL */
  uint64_t rx_bytes;  /* response bytes consumed (not counting bytes after its end) */
};

/* Ready for the response to one request. body_only: HTPCHD. */
void m0__htpc_resp_init(struct m0__htpc_resp *r, bool body_only);

/* Bytes from the server. Delivers what goes to the UART through deliver(arg, ...), then
 * returns M0__HTPC_MORE, M0__HTPC_DONE or M0__HTPC_EMALFORMED. *used (may be NULL) gets
 * how many bytes of in belong to the response: len for MORE; up to the response's end
 * for DONE (the rest is not part of it and goes nowhere); up to the offending byte for
 * EMALFORMED. With HTPCHD=off exactly in[0..*used) is delivered, so the UART sees the
 * response as sent, up to its end or its first bad byte, however it was split. Once DONE
 * or failed, further calls deliver nothing and return the same result with *used = 0. */
int m0__htpc_resp_feed(struct m0__htpc_resp *r, const uint8_t *in, size_t len, size_t *used,
                       m0__htpc_deliver_fn deliver, void *arg);

/* The server closed the connection (or the caller gave up on it). A response delimited
 * by the close completes here. Returns M0__HTPC_DONE, M0__HTPC_ETRUNCATED (closed inside
 * a response, or before any final response), or the earlier error. Delivers nothing. */
int m0__htpc_resp_eof(struct m0__htpc_resp *r);

/* The final response's status code, or 0 before its status line. */
int m0__htpc_resp_status(const struct m0__htpc_resp *r);

#endif
