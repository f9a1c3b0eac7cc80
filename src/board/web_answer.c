/* web_answer.c: the web server's answers: status line, headers, error bodies.
 *
 * Every answer carries the same safety headers (nosniff, DENY framing, no referrer, and
 * for HTML a Content-Security-Policy that allows only the page's own scripts, styles and
 * server), Cache-Control (no-store unless the caller revalidates by ETag) and the
 * connection's fate: "close" once the request or a refusal that leaves the stream
 * unusable said so (web_auth.c's list: 400, 408, 413, 431). Refusals are JSON under /api/
 * and text elsewhere. The headers and an owned body leave in one buffer, one write.
 */
#include <stdlib.h>
#include <string.h>

#include "web_conn.h"

static const char *reason(int status) {
  switch (status) {
  case 200: return "OK";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Content Too Large";
  case 415: return "Unsupported Media Type";
  case 421: return "Misdirected Request";
  case 422: return "Unprocessable Content";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  }
  return "Unknown";
}

/* The page may only run its own scripts and talk to its own server. */
#define CSP                                                                                \
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "       \
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

void m0__web_answer(struct m0__web_conn *c, const struct m0__web_answer *a) {
  struct m0__web_buf h = {0};
  bool html = a->content_type && strncmp(a->content_type, "text/html", 9) == 0;
  m0__web_buf_printf(&h, "HTTP/1.1 %d %s\r\n", a->status, reason(a->status));
  if (a->content_type)
    m0__web_buf_printf(&h, "Content-Type: %s\r\n", a->content_type);
  if (!a->no_length && a->status != 304)
    m0__web_buf_printf(&h, "Content-Length: %zu\r\n", a->len);
  m0__web_buf_printf(&h, "Cache-Control: %s\r\n", a->cache ? a->cache : "no-store");
  if (a->etag)
    m0__web_buf_printf(&h, "ETag: %s\r\n", a->etag);
  m0__web_buf_str(&h, "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
                      "Referrer-Policy: no-referrer\r\n");
  if (html)
    m0__web_buf_str(&h, "Content-Security-Policy: " CSP "\r\n");
  if (a->extra)
    m0__web_buf_str(&h, a->extra);
  m0__web_buf_str(&h, c->close_after || !c->keep_alive ? "Connection: close\r\n\r\n"
                                                       : "Connection: keep-alive\r\n\r\n");
  if (!c->keep_alive)
    c->close_after = true;
  if (h.failed) {
    m0__web_buf_free(&h);
    free(a->owned);
    m0__web_conn_close(c);
    return;
  }
  uv_buf_t bufs[2] = {uv_buf_init(h.data, (unsigned)h.len)};
  unsigned n = 1;
  if (a->body && a->len > 0 && !a->head && a->status != 304)
    bufs[n++] = uv_buf_init((char *)a->body, (unsigned)a->len);
  /* The header buffer and the owned body are both freed with the request: hand the
   * body over by copying when it is owned, keeping one allocation per write. */
  if (a->owned != NULL && n == 2) {
    m0__web_buf_add(&h, a->body, a->len);
    free(a->owned);
    if (h.failed) {
      m0__web_buf_free(&h);
      m0__web_conn_close(c);
      return;
    }
    bufs[0] = uv_buf_init(h.data, (unsigned)h.len);
    n = 1;
  } else {
    free(a->owned);
  }
  m0__web_conn_write(c, bufs, n, h.data, NULL);
  if (c->close_after && c->writes > 0)
    uv_timer_stop(&c->timer);
}

void m0__web_answer_error(struct m0__web_conn *c, int status, const char *message,
                          const char *extra) {
  struct m0__web_buf b = {0};
  if (m0__web_status_closes(status))
    c->close_after = true; /* what follows on the stream cannot be trusted */
  bool json = c->api;
  if (json) {
    m0__web_buf_str(&b, "{\"error\":");
    m0__web_buf_json(&b, message, strlen(message));
    m0__web_buf_str(&b, "}");
  } else {
    m0__web_buf_printf(&b, "%d %s: %s\n", status, reason(status), message);
  }
  struct m0__web_answer a = {
      .status = status,
      .content_type = json ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
      .body = b.data,
      .len = b.len,
      .owned = b.data,
      .extra = extra,
      .head = c->head_req,
  };
  m0__web_answer(c, &a);
}

void m0__web_answer_host_refused(struct m0__web_conn *c, const char *host) {
  struct m0__web_buf msg = {0}, b = {0};
  m0__web_buf_str(&msg, "this server does not answer to the host name \"");
  m0__web_buf_str(&msg, host);
  m0__web_buf_str(&msg, "\" (a guard against DNS rebinding): use its IP address or "
                        "localhost, or start m0emu with --web-host ");
  m0__web_buf_str(&msg, host);
  if (msg.failed) {
    m0__web_buf_free(&msg);
    m0__web_answer_error(c, 500, "out of memory", NULL);
    return;
  }
  if (c->api) {
    m0__web_buf_str(&b, "{\"error\":");
    m0__web_buf_json(&b, msg.data, msg.len);
    m0__web_buf_str(&b, ",\"host\":");
    m0__web_buf_json(&b, host, strlen(host));
    m0__web_buf_str(&b, "}");
  } else {
    m0__web_buf_printf(&b, "421 Misdirected Request: %s\n", msg.data);
  }
  m0__web_buf_free(&msg);
  if (b.failed) {
    m0__web_buf_free(&b);
    m0__web_answer_error(c, 500, "out of memory", NULL);
    return;
  }
  struct m0__web_answer a = {
      .status = 421,
      .content_type = c->api ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
      .body = b.data,
      .len = b.len,
      .owned = b.data,
      .head = c->head_req,
  };
  m0__web_answer(c, &a);
}

void m0__web_answer_json(struct m0__web_conn *c, int status, struct m0__web_buf *b,
                         bool head) {
  if (b->failed) {
    m0__web_buf_free(b);
    m0__web_answer_error(c, 500, "out of memory", NULL);
    return;
  }
  struct m0__web_answer a = {.status = status,
                             .content_type = "application/json; charset=utf-8",
                             .body = b->data,
                             .len = b->len,
                             .owned = b->data,
                             .head = head};
  m0__web_answer(c, &a);
}
