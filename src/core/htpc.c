/* htpc.c: HTTP client mode (spec §6.5): requests built from the configuration, responses
 * followed with llhttp.
 *
 * Request choices (the vendor is silent):
 * - The request target is HTPURL then (GET) the frame, percent-encoded byte by byte where
 *   a byte may not appear in a target (RFC 3986 query): kept as is are letters, digits,
 *   `-._~!$&'()*+,;=:@/?` and a `%` that starts a valid `%XX` escape (so a host that sends
 *   pre-encoded data is not double-encoded); everything else (space, CR, LF, `#`, `"`,
 *   `<>[]\^`{|}`, a lone `%`, controls, bytes >= 0x80) becomes `%XX` in upper case. A valid
 *   target is thus sent unchanged, and the request line is always well-formed.
 * - HTPHEAD is split at `<<CRLF>>` (exact spelling, as typed); every non-empty piece is
 *   one header line ending CR LF. A trailing, doubled or missing `<<CRLF>>` therefore
 *   makes no difference, and the header block ends with exactly one empty line.
 * - Header order: Host, HTPHEAD's lines, then Content-Length (POST only, also for an
 *   empty body). Nothing else is added (no Content-Type, no Connection): HTPHEAD is the
 *   user's to fill.
 *
 * Response choices:
 * - llhttp in its default (strict) mode. A response ends at Content-Length, at the last
 *   chunk, at the close of the connection when it has neither, and at once after the
 *   headers for 204 and 304 (even with a Content-Length, RFC 9110) and 101. Interim 1xx
 *   responses are passed on (HTPCHD=off) and the final response is awaited.
 * - Bytes after the end of the response are not part of it and are not delivered.
 * - A malformed response stops delivery at the offending byte (HTPCHD=off: everything
 *   before it, as received; on: the body bytes parsed before it), independent of how
 *   the bytes were split, and the error sticks until the next request.
 */
#include "htpc.h"

#include <string.h>

/* ---- request ---- */

struct buf {
  uint8_t *p;
  size_t len, cap;
  bool full;
};

static void put(struct buf *b, const void *data, size_t len) {
  if (b->full || len > b->cap - b->len) {
    b->full = true;
    return;
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

static void put_str(struct buf *b, const char *s) {
  put(b, s, strlen(s));
}

static void put_uint(struct buf *b, unsigned long v) {
  char digits[24];
  size_t n = sizeof digits;
  do {
    digits[--n] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  put(b, digits + n, sizeof digits - n);
}

static bool is_hex(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* May c appear as itself in a request target (RFC 3986 pchar, `/` and `?`)? */
static bool target_safe(uint8_t c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
    return true;
  return c != 0 && strchr("-._~!$&'()*+,;=:@/?", c) != NULL;
}

static void put_target(struct buf *b, const uint8_t *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < len; i++) {
    uint8_t c = s[i];
    bool escape_start = c == '%' && i + 2 < len && is_hex(s[i + 1]) && is_hex(s[i + 2]);
    if (target_safe(c) || escape_start) {
      put(b, &c, 1);
    } else {
      char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
      put(b, esc, sizeof esc);
    }
  }
}

static void put_headers(struct buf *b, const char *head) {
  static const char token[] = "<<CRLF>>";
  const size_t tlen = sizeof token - 1;
  while (*head != '\0') {
    const char *end = strstr(head, token);
    size_t n = end != NULL ? (size_t)(end - head) : strlen(head);
    if (n > 0) {
      put(b, head, n);
      put_str(b, "\r\n");
    }
    head += n;
    if (end != NULL)
      head += tlen;
  }
}

int m0__htpc_request(const struct m0_config *cfg, const uint8_t *frame, size_t len,
                     uint8_t *out, size_t cap) {
  struct buf b = {out, 0, cap, false};
  bool post = cfg->htptp == M0_HTPTP_POST;
  put_str(&b, post ? "POST " : "GET ");
  put_target(&b, (const uint8_t *)cfg->htpurl, strnlen(cfg->htpurl, sizeof cfg->htpurl));
  if (!post)
    put_target(&b, frame, len);
  put_str(&b, " HTTP/1.1\r\nHost: ");
  put(&b, cfg->sock_addr, strnlen(cfg->sock_addr, sizeof cfg->sock_addr));
  if (cfg->sock_port != 80) {
    put_str(&b, ":");
    put_uint(&b, cfg->sock_port);
  }
  put_str(&b, "\r\n");
  char head[sizeof cfg->htphead];
  memcpy(head, cfg->htphead, sizeof head);
  head[sizeof head - 1] = '\0';
  put_headers(&b, head);
  if (post) {
    put_str(&b, "Content-Length: ");
    put_uint(&b, len);
    put_str(&b, "\r\n");
  }
  put_str(&b, "\r\n");
  if (post)
    put(&b, frame, len);
  if (b.full || b.len > (size_t)INT32_MAX)
    return M0__HTPC_ENOSPC;
  return (int)b.len;
}

/* ---- response ---- */

/* What the llhttp callbacks need during one feed (parser.data points here). */
struct feed_ctx {
  struct m0__htpc_resp *r;
  m0__htpc_deliver_fn deliver;
  void *arg;
};

static bool interim(int status) {
  return status >= 100 && status < 200 && status != 101;
}

static int on_headers_complete(llhttp_t *p) {
  int status = p->status_code;
  /* 1 = no body: 204 and 304 never have one, whatever their headers say. */
  return (status == 204 || status == 304 || interim(status)) ? 1 : 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  struct feed_ctx *c = p->data;
  if (c != NULL && c->r->body_only && len > 0)
    c->deliver(c->arg, (const uint8_t *)at, len);
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  /* An interim response is followed by the real one; any other ends the exchange.
   * Pausing makes llhttp stop exactly at the response's last byte. */
  return interim(p->status_code) ? 0 : HPE_PAUSED;
}

static const llhttp_settings_t settings = {
  .on_headers_complete = on_headers_complete,
  .on_body = on_body,
  .on_message_complete = on_message_complete,
};

void m0__htpc_resp_init(struct m0__htpc_resp *r, bool body_only) {
  memset(r, 0, sizeof *r);
  llhttp_init(&r->parser, HTTP_RESPONSE, &settings);
  r->body_only = body_only;
  r->result = M0__HTPC_MORE;
}

static int fail(struct m0__htpc_resp *r, int result, const char *reason, const char *code) {
  r->result = result;
  r->reason = reason != NULL ? reason : "malformed response";
  r->code = code;
  return result;
}

int m0__htpc_resp_feed(struct m0__htpc_resp *r, const uint8_t *in, size_t len, size_t *used,
                       m0__htpc_deliver_fn deliver, void *arg) {
  struct feed_ctx c = {r, deliver, arg};
  size_t n = len;
  llhttp_errno_t e;
  if (used != NULL)
    *used = 0;
  if (r->result != M0__HTPC_MORE || len == 0)
    return r->result;
  r->parser.data = &c;
  e = llhttp_execute(&r->parser, (const char *)in, len);
  r->parser.data = NULL;
  if (e != HPE_OK) {
    const char *pos = llhttp_get_error_pos(&r->parser);
    n = pos != NULL ? (size_t)(pos - (const char *)in) : 0;
    if (n > len)
      n = len;
  }
  if (!r->body_only && n > 0)
    deliver(arg, in, n);
  r->rx_bytes += n;
  if (used != NULL)
    *used = n;
  if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE)
    r->result = M0__HTPC_DONE;
  else if (e != HPE_OK)
    fail(r, M0__HTPC_EMALFORMED, llhttp_get_error_reason(&r->parser), llhttp_errno_name(e));
  return r->result;
}

int m0__htpc_resp_eof(struct m0__htpc_resp *r) {
  llhttp_errno_t e;
  if (r->result != M0__HTPC_MORE)
    return r->result;
  /* finish() runs on_message_complete for a close-delimited body, which pauses. */
  e = llhttp_finish(&r->parser);
  if (e == HPE_PAUSED)
    return r->result = M0__HTPC_DONE;
  if (e == HPE_OK) /* between messages: nothing, or only interim responses, came */
    return fail(r, M0__HTPC_ETRUNCATED, "connection closed before a response", NULL);
  return fail(r, M0__HTPC_ETRUNCATED, "connection closed inside the response",
              llhttp_errno_name(e));
}

int m0__htpc_resp_status(const struct m0__htpc_resp *r) {
  return r->parser.status_code;
}
