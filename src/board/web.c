/* web.c: the admin web server (spec §7): connections, HTTP, auth, routing, the stream.
 *
 * Each connection has its own llhttp parser and one timer. The timer is a deadline for
 * a whole request (10 s from the moment the server waits for it to its last byte), not
 * an idle timer per byte, so a client that trickles one byte a second is answered 408
 * and dropped like a silent one. Limits: 8 KiB of request line and headers (431), 16 KiB
 * of body (413), 64 open connections (the 65th is answered 503 and closed). Requests on
 * one connection are answered in order: a request that cannot be answered at once (a
 * file under --web-root, read in the thread pool) pauses the parser and the rest of the
 * bytes wait for it. Errors that leave the stream unparseable close the connection after
 * the answer, with a short lingering read so the client sees the answer, not a reset.
 *
 * Every request needs HTTP Basic credentials equal to the running WEBU user and password
 * (compared in constant time), or it is answered 401 with the challenge. State changes
 * are POST only and refused (403) when an Origin header names another site.
 *
 * The event stream (GET /api/events, Server-Sent Events) carries the board's event lines
 * and the bytes that move on the UART and the network. A record is formatted once into a
 * reference-counted blob shared by every client's write and by the history (the last 256
 * records, replayed to a new client after its Last-Event-ID). A client that owes more
 * than 256 KiB is dropped: a slow page never holds up the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llhttp.h>

#include "board.h"
#include "web.h"

#define READ_BUF_SIZE 65536
#define LINGER_MS 2000          /* reading what a refused client still sends */
#define MAX_HEADERS 100         /* more header lines is 431 too */
#define WRITE_QUEUE_PAUSE (256 * 1024) /* stop parsing a client that does not read */
#define FILE_MAX (4 * 1024 * 1024) /* --web-root files: the page is a few KiB */
#define AUTH_CMP_LEN 64         /* constant-time compare width: user:pass is at most 31 */

struct m0__web_blob {
  unsigned refs;
  uint64_t id;
  size_t len;
  char data[];
};

struct m0__web_listener {
  uv_tcp_t tcp;
  struct m0__web *w;
};

/* The request headers the server reads; the others are only counted. */
enum hdr { H_NONE = -1, H_AUTH, H_ORIGIN, H_HOST, H_INM, H_CTYPE, H_LAST_ID, H_EXPECT, H_COUNT };
static const char *const hdr_names[H_COUNT] = {
    "authorization", "origin", "host", "if-none-match", "content-type", "last-event-id",
    "expect",
};

struct hval {
  char v[256];
  size_t len;
  bool seen, over;
};

struct m0__web_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  struct m0__web *w;
  struct m0__web_conn *next, *prev;
  llhttp_t parser;
  unsigned handles;    /* libuv handles not yet closed; freed at 0 (and no work) */
  unsigned writes;     /* write requests in flight */
  bool closing;        /* uv_close called */
  bool counted;        /* counts against M0__WEB_MAX_CONNS */
  bool close_after;    /* close once the queued answers are written */
  bool lingering;      /* shut down for writing; reading and dropping until EOF */
  bool stream;         /* an event stream client */
  bool work_pending;   /* a file read or a flash write is in the thread pool */
  bool paused;         /* parser paused, reading stopped; bytes kept in pending */
  bool in_request;     /* bytes of a request have arrived */
  char *pending;
  size_t pending_len;
  /* The request being parsed. */
  int error_status;    /* set by a callback that refused the request */
  const char *error_text;
  size_t head_bytes;
  unsigned nheaders;
  bool keep_alive;
  char url[M0__WEB_HEAD_MAX + 1];
  size_t url_len;
  char field[32];
  size_t field_len;
  bool field_long;
  enum hdr which;
  struct hval h[H_COUNT];
  char *body;
  size_t body_len, body_cap;
};

struct wreq {
  uv_write_t req;
  struct m0__web_conn *c;
  char *owned;
  struct m0__web_blob *blob;
};

struct file_work {
  uv_work_t req;
  struct m0__web_conn *c;
  bool head;
  char path[4096 + 64];
  char inm[256];
  char etag[64];
  char *data;
  size_t len;
  int err;
};

static const llhttp_settings_t parser_settings;

/* ---- blobs ---- */

static struct m0__web_blob *blob_new(size_t len) {
  struct m0__web_blob *b = malloc(sizeof *b + len + 1);
  if (b != NULL) {
    b->refs = 1;
    b->id = 0;
    b->len = len;
  }
  return b;
}

static void blob_unref(struct m0__web_blob *b) {
  if (b != NULL && --b->refs == 0)
    free(b);
}

static void emit(struct m0__web *w, const char *name, const char *fields) {
  if (w->events != NULL)
    m0__events_emit(w->events, name, fields);
}

/* ---- connection lifetime ---- */

static void conn_free(struct m0__web_conn *c) {
  struct m0__web *w = c->w;
  if (c->prev)
    c->prev->next = c->next;
  else
    w->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  free(c->body);
  free(c->pending);
  free(c);
}

static void on_conn_handle_closed(uv_handle_t *h) {
  struct m0__web_conn *c = h->data;
  if (--c->handles == 0 && !c->work_pending)
    conn_free(c);
}

static void conn_close(struct m0__web_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  if (c->counted) {
    c->counted = false;
    c->w->nconns--;
  }
  uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_timer(uv_timer_t *t);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void arm_deadline(struct m0__web_conn *c, uint64_t ms) {
  uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  struct m0__web_conn *c = req->data;
  free(req);
  if (status < 0 || c->closing) {
    conn_close(c);
    return;
  }
  /* Read and drop what the client still sends, so its unread bytes do not turn our
   * answer into a reset; EOF or the linger deadline closes. */
  c->lingering = true;
  c->paused = false;
  arm_deadline(c, LINGER_MS);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* Close after the answers already queued are written. */
static void conn_finish(struct m0__web_conn *c) {
  c->close_after = true;
  if (c->closing || c->lingering || c->writes > 0)
    return;
  uv_shutdown_t *req = malloc(sizeof *req);
  if (req == NULL || uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
    free(req);
    conn_close(c);
    return;
  }
  req->data = c;
  c->lingering = true; /* no more parsing; on_shutdown arms the linger */
  uv_timer_stop(&c->timer);
}

static void conn_resume(struct m0__web_conn *c);

static void on_write(uv_write_t *req, int status) {
  struct wreq *wr = (struct wreq *)req;
  struct m0__web_conn *c = wr->c;
  free(wr->owned);
  blob_unref(wr->blob);
  free(wr);
  c->writes--;
  if (c->closing)
    return;
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (c->writes == 0 && c->close_after)
    conn_finish(c);
  else if (c->paused)
    conn_resume(c);
}

/* Queue bufs; owned (malloc) and blob are released when written. */
static void conn_write(struct m0__web_conn *c, uv_buf_t *bufs, unsigned n, char *owned,
                       struct m0__web_blob *blob) {
  struct wreq *wr = c->closing || c->lingering ? NULL : malloc(sizeof *wr);
  if (wr == NULL) {
    free(owned);
    blob_unref(blob);
    if (!c->closing && !c->lingering)
      conn_close(c);
    return;
  }
  wr->c = c;
  wr->owned = owned;
  wr->blob = blob;
  if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, bufs, n, on_write) != 0) {
    free(owned);
    blob_unref(blob);
    free(wr);
    conn_close(c);
    return;
  }
  c->writes++;
}

/* ---- answers ---- */

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

struct answer {
  int status;
  const char *content_type;
  const void *body;        /* NULL: none */
  size_t len;
  char *owned;             /* body to free after writing (may equal body) */
  const char *cache;       /* Cache-Control */
  const char *etag;        /* NULL: none */
  const char *extra;       /* more header lines, each ending in \r\n, or NULL */
  bool head;               /* HEAD: headers only, same Content-Length */
  bool no_length;          /* a stream: no Content-Length, the body runs to the close */
};

static void answer(struct m0__web_conn *c, const struct answer *a) {
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
    conn_close(c);
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
      conn_close(c);
      return;
    }
    bufs[0] = uv_buf_init(h.data, (unsigned)h.len);
    n = 1;
  } else {
    free(a->owned);
  }
  conn_write(c, bufs, n, h.data, NULL);
  if (c->close_after && c->writes > 0)
    uv_timer_stop(&c->timer);
}

static bool is_api(const struct m0__web_conn *c) {
  return strncmp(c->url, "/api/", 5) == 0;
}

/* An error answer: JSON for the API, text for the page. */
static void answer_error(struct m0__web_conn *c, int status, const char *message,
                         const char *extra) {
  struct m0__web_buf b = {0};
  if (status == 400 || status == 408 || status == 413 || status == 431)
    c->close_after = true; /* what follows on the stream cannot be trusted */
  bool json = is_api(c);
  if (json) {
    m0__web_buf_str(&b, "{\"error\":");
    m0__web_buf_json(&b, message, strlen(message));
    m0__web_buf_str(&b, "}");
  } else {
    m0__web_buf_printf(&b, "%d %s: %s\n", status, reason(status), message);
  }
  struct answer a = {
      .status = status,
      .content_type = json ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
      .body = b.data,
      .len = b.len,
      .owned = b.data,
      .extra = extra,
      .head = llhttp_get_method(&c->parser) == HTTP_HEAD,
  };
  answer(c, &a);
}

static void answer_json(struct m0__web_conn *c, int status, struct m0__web_buf *b,
                        bool head) {
  if (b->failed) {
    m0__web_buf_free(b);
    answer_error(c, 500, "out of memory", NULL);
    return;
  }
  struct answer a = {.status = status,
                     .content_type = "application/json; charset=utf-8",
                     .body = b->data,
                     .len = b->len,
                     .owned = b->data,
                     .head = head};
  answer(c, &a);
}

/* ---- authentication and origin ---- */

static int b64val(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+')
    return 62;
  if (ch == '/')
    return 63;
  return -1;
}

/* Strict base64 (padding optional); returns the decoded length or -1. */
static int b64decode(const char *s, size_t len, unsigned char *out, size_t cap) {
  while (len > 0 && s[len - 1] == '=')
    len--;
  if (len % 4 == 1)
    return -1;
  size_t n = 0;
  uint32_t acc = 0;
  unsigned bits = 0;
  for (size_t i = 0; i < len; i++) {
    int v = b64val((unsigned char)s[i]);
    if (v < 0)
      return -1;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == cap)
        return -1;
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  return (int)n;
}

static bool auth_ok(struct m0__web_conn *c) {
  const struct hval *h = &c->h[H_AUTH];
  if (!h->seen || h->over || h->len < 6 || strncasecmp(h->v, "Basic ", 6) != 0)
    return false;
  const char *s = h->v + 6;
  size_t len = h->len - 6;
  while (len > 0 && *s == ' ')
    s++, len--;
  while (len > 0 && s[len - 1] == ' ')
    len--;
  unsigned char given[AUTH_CMP_LEN] = {0};
  int n = b64decode(s, len, given, sizeof given);
  if (n < 0)
    return false;
  /* Expected "user:password" zero-padded to the same width: the comparison below runs
   * over every byte whatever the content, so its time tells nothing about the secret. */
  const struct m0_config *run = m0_dev_running(c->w->dev);
  unsigned char expected[AUTH_CMP_LEN] = {0};
  int m = snprintf((char *)expected, sizeof expected, "%s:%s", run->webu_user,
                   run->webu_pass);
  volatile unsigned diff = (unsigned)(n ^ m);
  for (size_t i = 0; i < AUTH_CMP_LEN; i++)
    diff |= (unsigned)(given[i] ^ expected[i]);
  return diff == 0;
}

/* host[:port] lower-cased, with the default port 80 made explicit. */
static bool authority(const char *s, size_t len, char *out, size_t cap) {
  if (len == 0 || len + 4 >= cap)
    return false;
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    if (ch == '/' || ch == '@' || ch == ' ')
      return false;
    out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
  }
  out[len] = '\0';
  const char *close = strrchr(out, ']');
  const char *colon = strrchr(out, ':');
  if (colon == NULL || (close != NULL && colon < close))
    strcat(out, ":80");
  return true;
}

/* A state change may only come from our own page: an Origin header, when a browser
 * sends one, must name this server (scheme http, the host and port the client used). */
static bool same_origin(const struct m0__web_conn *c) {
  const struct hval *o = &c->h[H_ORIGIN], *host = &c->h[H_HOST];
  if (!o->seen)
    return true; /* not a browser, or one that does not say: curl, scripts */
  if (o->over || !host->seen || strncasecmp(o->v, "http://", 7) != 0)
    return false;
  char a[300], b[300];
  size_t olen = o->len - 7;
  if (olen > 0 && o->v[7 + olen - 1] == '/')
    olen--;
  if (!authority(o->v + 7, olen, a, sizeof a) || !authority(host->v, host->len, b, sizeof b))
    return false;
  return strcmp(a, b) == 0;
}

/* ---- the event stream ---- */

static void stream_send(struct m0__web_conn *c, struct m0__web_blob *b) {
  if (c->closing || c->lingering)
    return;
  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + b->len >
      M0__WEB_SSE_QUEUE_MAX) {
    conn_close(c); /* a slow reader loses its stream; EventSource reconnects */
    return;
  }
  b->refs++;
  uv_buf_t buf = uv_buf_init(b->data, (unsigned)b->len);
  conn_write(c, &buf, 1, NULL, b);
}

/* Format one record, keep it in the history and send it to every stream client. */
static void publish(struct m0__web *w, const char *event, const char *json, size_t len) {
  if (w->closing)
    return;
  char head[96];
  uint64_t id = ++w->next_id;
  int hn = snprintf(head, sizeof head, "id: %llu\nevent: %s\ndata: ", (unsigned long long)id,
                    event);
  struct m0__web_blob *b = blob_new((size_t)hn + len + 2);
  if (b == NULL)
    return;
  b->id = id;
  memcpy(b->data, head, (size_t)hn);
  memcpy(b->data + hn, json, len);
  memcpy(b->data + hn + len, "\n\n", 2);
  size_t slot = (size_t)(id % M0__WEB_HISTORY);
  blob_unref(w->history[slot]);
  w->history[slot] = b;
  for (struct m0__web_conn *c = w->conns; c != NULL; c = c->next)
    if (c->stream)
      stream_send(c, b);
}

static void traffic_flush(struct m0__web *w) {
  if (!w->pending.active)
    return;
  w->pending.active = false;
  if (w->flush_check_open) {
    uv_check_stop(&w->flush_check);
    uv_prepare_stop(&w->flush_prepare);
  }
  struct m0__web_buf b = {0};
  m0__web_buf_str(&b, "{\"dir\":");
  m0__web_buf_json(&b, w->pending.dir, strlen(w->pending.dir));
  m0__web_buf_printf(&b, ",\"link\":%u,\"t_ms\":%llu,\"len\":%zu,\"hex\":\"", w->pending.link,
                     (unsigned long long)w->pending.t_ms, w->pending.len);
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < w->pending.shown; i++) {
    uint8_t byte = w->pending.data[i];
    char two[2] = {hex[byte >> 4], hex[byte & 15]};
    m0__web_buf_add(&b, two, 2);
  }
  m0__web_buf_str(&b, "\",\"text\":");
  m0__web_buf_json(&b, (const char *)w->pending.data, w->pending.shown);
  m0__web_buf_printf(&b, ",\"truncated\":%s}",
                     w->pending.shown < w->pending.len ? "true" : "false");
  if (!b.failed)
    publish(w, "traffic", b.data, b.len);
  m0__web_buf_free(&b);
}

static void on_flush_prepare(uv_prepare_t *prepare) {
  traffic_flush(prepare->data);
}

static void on_flush_check(uv_check_t *check) {
  traffic_flush(check->data);
}

void m0__web_event(struct m0__web *w, const char *json_line) {
  size_t len = strlen(json_line);
  while (len > 0 && (json_line[len - 1] == '\n' || json_line[len - 1] == '\r'))
    len--;
  if (len == 0 || memchr(json_line, '\n', len) != NULL)
    return; /* an SSE data line cannot hold a newline; event lines never do */
  traffic_flush(w); /* the stream keeps the order in which things happened */
  publish(w, "event", json_line, len);
}

void m0__web_traffic(struct m0__web *w, const char *dir, unsigned link, const uint8_t *data,
                     size_t len, uint64_t t_ms) {
  if (w->closing || len == 0)
    return;
  if (w->pending.active &&
      (strcmp(w->pending.dir, dir) != 0 || w->pending.link != link))
    traffic_flush(w);
  if (!w->pending.active) {
    w->pending.active = true;
    snprintf(w->pending.dir, sizeof w->pending.dir, "%s", dir);
    w->pending.link = link;
    w->pending.t_ms = t_ms;
    w->pending.len = w->pending.shown = 0;
    if (w->flush_check_open) {
      uv_check_start(&w->flush_check, on_flush_check);
      uv_prepare_start(&w->flush_prepare, on_flush_prepare);
    }
  }
  size_t room = M0__WEB_TRAFFIC_SHOWN - w->pending.shown;
  size_t take = len < room ? len : room;
  memcpy(w->pending.data + w->pending.shown, data, take);
  w->pending.shown += take;
  w->pending.len += len;
  if (!w->flush_check_open)
    traffic_flush(w);
}

static void start_stream(struct m0__web_conn *c) {
  static const char head[] = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/event-stream; charset=utf-8\r\n"
                             "Cache-Control: no-store\r\n"
                             "X-Content-Type-Options: nosniff\r\n"
                             "X-Accel-Buffering: no\r\n"
                             "Connection: keep-alive\r\n\r\n"
                             "retry: 1000\n\n";
  uv_buf_t buf = uv_buf_init((char *)head, sizeof head - 1);
  conn_write(c, &buf, 1, NULL, NULL);
  c->stream = true;
  uv_timer_stop(&c->timer);
  /* A stream may be silent for long: let TCP find a peer that vanished. */
  uv_tcp_keepalive(&c->tcp, 1, 60);
  /* Replay what the client has not seen: all of the history on a first connect, the
   * records after Last-Event-ID on a reconnect (older ones may be gone). */
  uint64_t after = 0;
  if (c->h[H_LAST_ID].seen && !c->h[H_LAST_ID].over)
    after = strtoull(c->h[H_LAST_ID].v, NULL, 10);
  struct m0__web *w = c->w;
  uint64_t first = w->next_id >= M0__WEB_HISTORY ? w->next_id - M0__WEB_HISTORY + 1 : 1;
  if (after >= first)
    first = after + 1;
  for (uint64_t id = first; id <= w->next_id && !c->closing; id++) {
    struct m0__web_blob *b = w->history[id % M0__WEB_HISTORY];
    if (b != NULL && b->id == id)
      stream_send(c, b);
  }
}

/* ---- files ---- */

static const char *content_type_of(const char *path) {
  static const struct {
    const char *ext, *type;
  } types[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".json", "application/json; charset=utf-8"},
      {".ico", "image/x-icon"},              {".txt", "text/plain; charset=utf-8"},
  };
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0)
      return types[i].type;
  return "application/octet-stream";
}

/* Paths the page uses: letters, digits, '-', '_', '.', '/' and no dot segments; under
 * --web-root nothing else is ever opened. */
static bool safe_path(const char *p) {
  if (p[0] != '/')
    return false;
  for (const char *s = p; *s; s++) {
    char ch = *s;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '/';
    if (!ok)
      return false;
    if (ch == '/' && (s[1] == '.' || s[1] == '/'))
      return false;
  }
  return true;
}

static bool etag_match(const struct hval *inm, const char *etag) {
  if (!inm->seen || inm->over)
    return false;
  if (strcmp(inm->v, "*") == 0)
    return true;
  /* A list of tags, possibly weak: any that names ours matches (GET uses weak compare). */
  size_t elen = strlen(etag);
  for (const char *s = inm->v; (s = strstr(s, etag)) != NULL; s += elen)
    return true;
  return false;
}

static void answer_file(struct m0__web_conn *c, const char *path, const void *data,
                        size_t len, char *owned, const char *etag, bool head) {
  struct answer a = {
      .status = etag_match(&c->h[H_INM], etag) ? 304 : 200,
      .content_type = content_type_of(path),
      .body = data,
      .len = len,
      .owned = owned,
      .cache = "no-cache", /* revalidate every time: the ETag makes it cheap */
      .etag = etag,
      .head = head,
  };
  answer(c, &a);
}

static void file_work(uv_work_t *req) {
  struct file_work *fw = req->data;
  int fd = open(fw->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fw->err = -errno;
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
    fw->err = -ENOENT;
    close(fd);
    return;
  }
  fw->data = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (fw->data != NULL && got < (size_t)st.st_size) {
    ssize_t n = read(fd, fw->data + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  fw->len = got;
  fw->err = fw->data == NULL ? -ENOMEM : 0;
  snprintf(fw->etag, sizeof fw->etag, "\"%llx-%llx-%llx\"", (unsigned long long)got,
           (unsigned long long)st.st_mtim.tv_sec, (unsigned long long)st.st_mtim.tv_nsec);
}

static void file_done(uv_work_t *req, int status) {
  struct file_work *fw = req->data;
  struct m0__web_conn *c = fw->c;
  c->work_pending = false;
  if (c->closing) {
    if (c->handles == 0)
      conn_free(c); /* its handles closed while the read ran */
    free(fw->data);
    free(fw);
    return;
  }
  if (status != 0 || fw->err == -ENOMEM) {
    answer_error(c, 500, "cannot read the file", NULL);
  } else if (fw->err != 0) {
    answer_error(c, 404, "no such page", NULL);
  } else {
    const char *rel = fw->path + strlen(c->w->web_root);
    answer_file(c, rel, fw->data, fw->len, fw->data, fw->etag, fw->head);
    fw->data = NULL;
  }
  free(fw->data);
  free(fw);
  conn_resume(c);
}

/* The answer to a POST /api/config that waited for its flash write. */
static void config_answer(void *ctx, int status, struct m0__web_buf *b) {
  struct m0__web_conn *c = ctx;
  c->work_pending = false;
  if (c->closing) {
    m0__web_buf_free(b);
    if (c->handles == 0)
      conn_free(c); /* its handles closed while the write ran */
    return;
  }
  answer_json(c, status, b, false);
  conn_resume(c);
}

/* Serve a page file; true when the request is now waiting for the thread pool. */
static bool serve_file(struct m0__web_conn *c, const char *path, bool head) {
  struct m0__web *w = c->w;
  if (w->web_root[0] == '\0') {
    for (size_t i = 0; i < m0__web_asset_count; i++) {
      const struct m0__web_asset *a = &m0__web_assets[i];
      if (strcmp(a->path, path) == 0) {
        answer_file(c, path, a->data, a->len, NULL, a->etag, head);
        return false;
      }
    }
    answer_error(c, 404, "no such page", NULL);
    return false;
  }
  struct file_work *fw = calloc(1, sizeof *fw);
  if (fw == NULL) {
    answer_error(c, 500, "out of memory", NULL);
    return false;
  }
  fw->req.data = fw;
  fw->c = c;
  fw->head = head;
  snprintf(fw->path, sizeof fw->path, "%s%s", w->web_root, path);
  if (uv_queue_work(w->loop, &fw->req, file_work, file_done) != 0) {
    free(fw);
    answer_error(c, 500, "cannot queue the file read", NULL);
    return false;
  }
  c->work_pending = true;
  return true;
}

/* ---- routing ---- */

enum { M_GET = 1, M_HEAD = 2, M_POST = 4 };

static bool media_is_json(const struct hval *ct) {
  if (!ct->seen || ct->over)
    return false;
  size_t n = strcspn(ct->v, "; ");
  return n == 16 && strncasecmp(ct->v, "application/json", 16) == 0;
}

/* Answer the request just parsed. Returns true when the answer is not written yet
 * (a file read) or the connection became a stream: parsing then pauses. */
static bool dispatch(struct m0__web_conn *c) {
  struct m0__web *w = c->w;
  uint8_t method = llhttp_get_method(&c->parser);
  unsigned m = method == HTTP_GET ? M_GET : method == HTTP_HEAD ? M_HEAD
               : method == HTTP_POST ? M_POST : 0;
  bool head = m == M_HEAD;

  /* The target: origin-form, or absolute-form (a proxy's) reduced to its path. */
  if (strncasecmp(c->url, "http://", 7) == 0) {
    const char *slash = strchr(c->url + 7, '/');
    if (slash == NULL)
      strcpy(c->url, "/");
    else
      memmove(c->url, slash, strlen(slash) + 1);
  }
  c->url[strcspn(c->url, "?#")] = '\0';
  char *path = c->url;
  if (path[0] != '/') {
    answer_error(c, 400, "the request target must be a path", NULL);
    return false;
  }
  if (llhttp_get_http_major(&c->parser) == 1 && llhttp_get_http_minor(&c->parser) >= 1 &&
      !c->h[H_HOST].seen) {
    answer_error(c, 400, "HTTP/1.1 request without a Host header", NULL);
    return false;
  }

  if (!auth_ok(c)) {
    answer_error(c, 401, "authentication required",
                 "WWW-Authenticate: Basic realm=\"USR-M0\", charset=\"UTF-8\"\r\n");
    return false;
  }

  static const struct {
    const char *path;
    unsigned methods;
    const char *allow;
  } api[] = {
      {"/api/status", M_GET | M_HEAD, "GET, HEAD"},
      {"/api/config", M_GET | M_HEAD | M_POST, "GET, HEAD, POST"},
      {"/api/restart", M_POST, "POST"},
      {"/api/factory-reset", M_POST, "POST"},
      {"/api/events", M_GET | M_HEAD, "GET, HEAD"},
  };
  size_t route = SIZE_MAX;
  for (size_t i = 0; i < sizeof api / sizeof api[0]; i++)
    if (strcmp(path, api[i].path) == 0)
      route = i;

  if (route == SIZE_MAX && is_api(c)) {
    answer_error(c, 404, "no such API", NULL);
    return false;
  }
  const char *allow = route == SIZE_MAX ? "GET, HEAD" : api[route].allow;
  unsigned methods = route == SIZE_MAX ? M_GET | M_HEAD : api[route].methods;
  if ((m & methods) == 0) {
    char extra[64];
    snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
    answer_error(c, 405, "method not allowed", extra);
    return false;
  }
  if (m == M_POST && !same_origin(c)) {
    answer_error(c, 403, "cross-site request refused (Origin does not match Host)", NULL);
    return false;
  }

  if (route == SIZE_MAX) {
    if (strcmp(path, "/") == 0)
      strcpy(c->url, "/index.html");
    if (!safe_path(c->url)) {
      answer_error(c, 404, "no such page", NULL);
      return false;
    }
    return serve_file(c, c->url, head);
  }

  struct m0__web_buf b = {0};
  const char *p = api[route].path;
  if (strcmp(p, "/api/status") == 0) {
    m0__web_api_status(w, &b);
    answer_json(c, 200, &b, head);
  } else if (strcmp(p, "/api/config") == 0 && m != M_POST) {
    m0__web_api_config(w, &b);
    answer_json(c, 200, &b, head);
  } else if (strcmp(p, "/api/config") == 0) {
    if (!media_is_json(&c->h[H_CTYPE])) {
      answer_error(c, 415, "the body must be application/json", NULL);
      return false;
    }
    int status = m0__web_api_set_config(w, c->body ? c->body : "", c->body_len, &b,
                                        config_answer, c);
    if (status == 0) { /* the flash write is in flight: answered from config_answer */
      c->work_pending = true;
      return true;
    }
    answer_json(c, status, &b, false);
  } else if (strcmp(p, "/api/restart") == 0) {
    m0__web_buf_str(&b, "{\"ok\":true,\"restarting\":true}");
    answer_json(c, 200, &b, false);
    /* After the answer is queued: the restart re-binds the server (WEBPORT). */
    m0_dev_restart(w->dev, uv_hrtime(), "web");
  } else if (strcmp(p, "/api/factory-reset") == 0) {
    m0__web_buf_str(&b, "{\"ok\":true,\"restarting\":true}");
    answer_json(c, 200, &b, false);
    m0_dev_factory_reset(w->dev, uv_hrtime());
  } else if (strcmp(p, "/api/events") == 0) {
    if (head) {
      struct answer a = {.status = 200, .content_type = "text/event-stream; charset=utf-8",
                         .head = true, .no_length = true};
      answer(c, &a);
      return false;
    }
    start_stream(c);
    return true;
  }
  return false;
}

/* ---- llhttp callbacks ---- */

static struct m0__web_conn *conn_of(llhttp_t *p) {
  return p->data;
}

static int refuse(struct m0__web_conn *c, int status, const char *text) {
  c->error_status = status;
  c->error_text = text;
  return -1;
}

static int count_head(struct m0__web_conn *c, size_t len) {
  c->head_bytes += len;
  if (c->head_bytes > M0__WEB_HEAD_MAX)
    return refuse(c, 431, "request line and headers exceed 8 KiB");
  return 0;
}

static int on_message_begin(llhttp_t *p) {
  struct m0__web_conn *c = conn_of(p);
  c->in_request = true;
  c->error_status = 0;
  c->head_bytes = 0;
  c->nheaders = 0;
  c->url_len = 0;
  c->url[0] = '\0';
  c->field_len = 0;
  c->field_long = false;
  c->which = H_NONE;
  for (int i = 0; i < H_COUNT; i++) {
    c->h[i].len = 0;
    c->h[i].v[0] = '\0';
    c->h[i].seen = c->h[i].over = false;
  }
  c->body_len = 0;
  return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
  struct m0__web_conn *c = conn_of(p);
  if (count_head(c, len) != 0)
    return -1;
  memcpy(c->url + c->url_len, at, len); /* fits: url holds M0__WEB_HEAD_MAX bytes */
  c->url_len += len;
  c->url[c->url_len] = '\0';
  return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  struct m0__web_conn *c = conn_of(p);
  if (count_head(c, len + 4) != 0) /* ": " and CRLF count too */
    return -1;
  if (c->field_len + len >= sizeof c->field) {
    c->field_long = true;
    return 0;
  }
  memcpy(c->field + c->field_len, at, len);
  c->field_len += len;
  return 0;
}

static int on_header_field_complete(llhttp_t *p) {
  struct m0__web_conn *c = conn_of(p);
  if (++c->nheaders > MAX_HEADERS)
    return refuse(c, 431, "more than 100 header lines");
  c->which = H_NONE;
  for (int i = 0; i < H_COUNT && !c->field_long; i++) {
    if (strlen(hdr_names[i]) == c->field_len &&
        strncasecmp(hdr_names[i], c->field, c->field_len) == 0)
      c->which = (enum hdr)i;
  }
  if (c->which != H_NONE && c->h[c->which].seen)
    return refuse(c, 400, "a header this server reads appears twice");
  if (c->which != H_NONE)
    c->h[c->which].seen = true;
  return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  struct m0__web_conn *c = conn_of(p);
  if (count_head(c, len) != 0)
    return -1;
  if (c->which == H_NONE)
    return 0;
  struct hval *h = &c->h[c->which];
  if (h->len + len >= sizeof h->v) {
    h->over = true;
    return 0;
  }
  memcpy(h->v + h->len, at, len);
  h->len += len;
  h->v[h->len] = '\0';
  return 0;
}

static int on_header_value_complete(llhttp_t *p) {
  struct m0__web_conn *c = conn_of(p);
  c->field_len = 0;
  c->field_long = false;
  c->which = H_NONE;
  return 0;
}

static int on_headers_complete(llhttp_t *p) {
  struct m0__web_conn *c = conn_of(p);
  c->keep_alive = llhttp_should_keep_alive(p) != 0;
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > M0__WEB_BODY_MAX)
    return refuse(c, 413, "the body exceeds 16 KiB");
  /* curl asks before sending a body over 1 KiB and otherwise waits a second. */
  if (c->h[H_EXPECT].seen && strcasecmp(c->h[H_EXPECT].v, "100-continue") == 0) {
    static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t buf = uv_buf_init((char *)go_on, sizeof go_on - 1);
    conn_write(c, &buf, 1, NULL, NULL);
  }
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  struct m0__web_conn *c = conn_of(p);
  if (c->body_len + len > M0__WEB_BODY_MAX)
    return refuse(c, 413, "the body exceeds 16 KiB");
  if (c->body_len + len + 1 > c->body_cap) {
    char *nb = realloc(c->body, M0__WEB_BODY_MAX + 1);
    if (nb == NULL)
      return refuse(c, 500, "out of memory");
    c->body = nb;
    c->body_cap = M0__WEB_BODY_MAX + 1;
  }
  memcpy(c->body + c->body_len, at, len);
  c->body_len += len;
  c->body[c->body_len] = '\0';
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  struct m0__web_conn *c = conn_of(p);
  c->in_request = false;
  uv_timer_stop(&c->timer);
  bool waiting = dispatch(c);
  if (c->closing || c->close_after || waiting)
    return HPE_PAUSED;
  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > WRITE_QUEUE_PAUSE)
    return HPE_PAUSED; /* the client does not read its answers: wait for it */
  arm_deadline(c, M0__WEB_REQUEST_MS); /* for the next request */
  return 0;
}

static const llhttp_settings_t parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- reading ---- */

static void feed(struct m0__web_conn *c, const char *data, size_t len) {
  llhttp_errno_t err = llhttp_execute(&c->parser, data, len);
  if (err == HPE_OK || c->closing)
    return;
  if (err == HPE_PAUSED) {
    if (c->stream || c->close_after || c->lingering)
      return; /* never resumed: what follows is ignored */
    const char *pos = llhttp_get_error_pos(&c->parser);
    size_t used = pos ? (size_t)(pos - data) : len;
    size_t rest = used <= len ? len - used : 0;
    if (rest > 0) {
      c->pending = malloc(rest);
      if (c->pending == NULL) {
        conn_close(c);
        return;
      }
      memcpy(c->pending, data + used, rest);
      c->pending_len = rest;
    }
    c->paused = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (!c->work_pending)
      conn_resume(c); /* paused for the write queue: resumes now if it has drained */
    return;
  }
  if (err == HPE_PAUSED_UPGRADE) {
    conn_finish(c); /* no protocol upgrades here: the answer went, then the close */
    return;
  }
  c->close_after = true;
  c->keep_alive = false;
  if (c->error_status != 0) {
    answer_error(c, c->error_status, c->error_text, NULL);
  } else {
    char msg[160];
    snprintf(msg, sizeof msg, "malformed request: %s", llhttp_get_error_reason(&c->parser)
                                                            ? llhttp_get_error_reason(&c->parser)
                                                            : llhttp_errno_name(err));
    c->url[0] = '\0'; /* answer in text: the target may be what was malformed */
    answer_error(c, 400, msg, NULL);
  }
  if (c->writes == 0)
    conn_finish(c);
}

static void conn_resume(struct m0__web_conn *c) {
  if (!c->paused || c->closing || c->lingering || c->stream || c->close_after ||
      c->work_pending)
    return;
  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > WRITE_QUEUE_PAUSE)
    return; /* on_write calls again */
  c->paused = false;
  llhttp_resume(&c->parser);
  arm_deadline(c, M0__WEB_REQUEST_MS);
  char *data = c->pending;
  size_t len = c->pending_len;
  c->pending = NULL;
  c->pending_len = 0;
  if (len > 0)
    feed(c, data, len);
  free(data);
  if (!c->paused && !c->closing && !c->lingering)
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct m0__web_conn *c = h->data;
  (void)suggested;
  /* One buffer serves every connection: libuv calls on_read right after on_alloc, and
   * on_read parses (or copies) everything before returning. */
  *buf = uv_buf_init(c->w->read_buf, READ_BUF_SIZE);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct m0__web_conn *c = s->data;
  if (c->closing)
    return;
  if (nread < 0) {
    if (nread == UV_EOF && !c->stream && !c->lingering && (c->writes > 0 || c->work_pending)) {
      /* The client only half-closed (nc -N, socat): it still reads the answers owed. */
      c->close_after = true;
      c->keep_alive = false;
      uv_read_stop(s);
      return;
    }
    conn_close(c); /* error, or EOF with nothing owed */
    return;
  }
  if (nread == 0 || c->lingering || c->stream || c->close_after || c->paused)
    return;
  feed(c, buf->base, (size_t)nread);
}

static void on_timer(uv_timer_t *t) {
  struct m0__web_conn *c = t->data;
  if (c->closing)
    return;
  if (c->lingering || !c->in_request) {
    conn_close(c); /* linger over, or an idle keep-alive connection */
    return;
  }
  /* The whole request did not arrive in time: a trickling or stalled client. */
  c->close_after = true;
  c->keep_alive = false;
  answer_error(c, 408, "the request took longer than 10 s", NULL);
  if (c->writes == 0)
    conn_finish(c);
}

/* ---- accepting ---- */

struct refusal {
  uv_tcp_t tcp;
  uv_write_t req;
};

static void on_refusal_closed(uv_handle_t *h) {
  free(h->data);
}

static void on_refusal_written(uv_write_t *req, int status) {
  struct refusal *r = req->data;
  (void)status;
  uv_close((uv_handle_t *)&r->tcp, on_refusal_closed);
}

/* Over the connection cap: say so briefly and close, never queue the client unseen. */
static void refuse_connection(struct m0__web *w, uv_stream_t *server) {
  static const char text[] = "HTTP/1.1 503 Service Unavailable\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 25\r\nRetry-After: 1\r\n"
                             "Connection: close\r\n\r\n"
                             "503 too many connections\n";
  struct refusal *r = malloc(sizeof *r);
  if (r == NULL || uv_tcp_init(w->loop, &r->tcp) != 0) {
    free(r);
    return;
  }
  r->tcp.data = r;
  r->req.data = r;
  if (uv_accept(server, (uv_stream_t *)&r->tcp) != 0) {
    uv_close((uv_handle_t *)&r->tcp, on_refusal_closed);
    return;
  }
  uv_buf_t buf = uv_buf_init((char *)text, sizeof text - 1);
  if (uv_write(&r->req, (uv_stream_t *)&r->tcp, &buf, 1, on_refusal_written) != 0)
    uv_close((uv_handle_t *)&r->tcp, on_refusal_closed);
}

static void on_connection(uv_stream_t *server, int status) {
  struct m0__web_listener *l = server->data;
  struct m0__web *w = l->w;
  if (status < 0 || w->closing)
    return;
  if (w->nconns >= M0__WEB_MAX_CONNS) {
    refuse_connection(w, server);
    return;
  }
  struct m0__web_conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return;
  c->w = w;
  if (uv_tcp_init(w->loop, &c->tcp) != 0) {
    free(c);
    return;
  }
  c->tcp.data = c;
  c->handles = 1;
  uv_timer_init(w->loop, &c->timer);
  c->timer.data = c;
  c->handles = 2;
  c->next = w->conns;
  if (w->conns)
    w->conns->prev = c;
  w->conns = c;
  c->counted = true;
  w->nconns++;
  llhttp_init(&c->parser, HTTP_REQUEST, &parser_settings);
  c->parser.data = c;
  c->keep_alive = true;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  arm_deadline(c, M0__WEB_REQUEST_MS);
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
    conn_close(c);
}

/* ---- listening ---- */

static void on_listener_closed(uv_handle_t *h) {
  free(h->data);
}

static void listener_close(struct m0__web *w) {
  if (w->listener != NULL) {
    uv_close((uv_handle_t *)&w->listener->tcp, on_listener_closed);
    w->listener = NULL;
  }
  w->port = 0;
}

static int listener_open(struct m0__web *w, uint16_t port) {
  struct sockaddr_storage ss;
  int rc = uv_ip4_addr(w->bind_addr, port, (struct sockaddr_in *)&ss);
  if (rc != 0)
    rc = uv_ip6_addr(w->bind_addr, port, (struct sockaddr_in6 *)&ss);
  if (rc != 0)
    return rc;
  struct m0__web_listener *l = calloc(1, sizeof *l);
  if (l == NULL)
    return UV_ENOMEM;
  l->w = w;
  rc = uv_tcp_init(w->loop, &l->tcp);
  if (rc != 0) {
    free(l);
    return rc;
  }
  l->tcp.data = l;
  /* libuv defers some bind errors (EADDRINUSE, EACCES) to listen: check both. */
  rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection);
  if (rc != 0) {
    uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
    return rc;
  }
  w->listener = l;
  w->port = port;
  return 0;
}

int m0__web_listen(struct m0__web *w, uint16_t port) {
  if (w->closing)
    return UV_EINVAL;
  if (w->listener != NULL && port == w->requested)
    return 0;
  listener_close(w);
  w->requested = port;
  if (port == 0)
    return 0;
  char fields[256];
  int rc = listener_open(w, port);
  if ((rc == UV_EACCES || rc == UV_EPERM) && port < 1024) {
    uint16_t mapped = (uint16_t)(8000 + port);
    int rc2 = listener_open(w, mapped);
    if (rc2 == 0) {
      snprintf(fields, sizeof fields, "\"port\":%u,\"host_port\":%u", (unsigned)port,
               (unsigned)mapped);
      emit(w, "web.port_mapped", fields);
    }
    rc = rc2;
  }
  if (rc != 0) {
    snprintf(fields, sizeof fields, "\"port\":%u,\"error\":\"%s\",\"message\":\"%s\"",
             (unsigned)port, uv_err_name(rc), uv_strerror(rc));
    emit(w, "web.error", fields);
    return rc;
  }
  snprintf(fields, sizeof fields, "\"port\":%u,\"host_port\":%u", (unsigned)port,
           (unsigned)w->port);
  emit(w, "web.listening", fields);
  return 0;
}

uint16_t m0__web_port(const struct m0__web *w) {
  return w->port;
}

int m0__web_init(struct m0__web *w, uv_loop_t *loop, struct m0_dev *dev,
                 struct m0__events *events, const char *bind_addr, const char *web_root,
                 const struct m0_factory *factory) {
  memset(w, 0, sizeof *w);
  w->loop = loop;
  w->dev = dev;
  w->events = events;
  if (factory != NULL)
    w->factory = *factory;
  if (bind_addr == NULL)
    bind_addr = "127.0.0.1";
  if (strlen(bind_addr) >= sizeof w->bind_addr)
    return UV_EINVAL;
  strcpy(w->bind_addr, bind_addr);
  if (web_root != NULL) {
    /* Resolved once: file paths are then root + a checked request path. */
    char real[PATH_MAX];
    if (realpath(web_root, real) == NULL)
      return -errno;
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
      return UV_ENOTDIR;
    if (strlen(real) >= sizeof w->web_root)
      return UV_ENAMETOOLONG;
    strcpy(w->web_root, strcmp(real, "/") == 0 ? "" : real);
    if (w->web_root[0] == '\0')
      return UV_EINVAL; /* serving / is never what a developer meant */
  }
  w->read_buf = malloc(READ_BUF_SIZE);
  if (w->read_buf == NULL)
    return UV_ENOMEM;
  uv_check_init(loop, &w->flush_check);
  uv_prepare_init(loop, &w->flush_prepare);
  w->flush_check.data = w;
  w->flush_prepare.data = w;
  w->flush_check_open = true;
  return 0;
}

void m0__web_close(struct m0__web *w) {
  if (w->closing)
    return;
  w->closing = true;
  if (w->flush_check_open) {
    w->flush_check_open = false;
    uv_close((uv_handle_t *)&w->flush_check, NULL);
    uv_close((uv_handle_t *)&w->flush_prepare, NULL);
  }
  listener_close(w);
  for (struct m0__web_conn *c = w->conns; c != NULL; c = c->next)
    conn_close(c);
  for (size_t i = 0; i < M0__WEB_HISTORY; i++) {
    blob_unref(w->history[i]);
    w->history[i] = NULL;
  }
  free(w->read_buf);
  w->read_buf = NULL;
}
