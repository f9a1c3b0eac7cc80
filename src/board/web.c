/* web.c: the admin web server (spec §7): connections, deadlines, answers, the stream.
 *
 * Each connection has its own request reader (web_req.c: llhttp, 8 KiB of head, 16 KiB
 * of body) and one timer, which is a deadline, not an idle timer per byte: from the
 * moment the server waits for a request, its last byte must come within 10 s, and from
 * its first byte its head must be complete within 3 s; else 408 and the connection is
 * closed. So a client that trickles a byte a second holds its slot 3 s at most, and one
 * that sends nothing is closed silently after 10 s, as is one that leaves more than
 * 256 KiB of answers unread for 10 s (its requests are not parsed meanwhile).
 *
 * 64 connections at most. When all are taken, a newcomer does not get 503: the one
 * furthest from being answered is closed to make room, in this order: an idle keep-alive
 * connection or one closing after its answer (longest idle first), an event client more
 * than 64 KiB behind, then one still waiting for its request (the longest waiting first,
 * the fewest bytes on a tie, so a newcomer always outlives a trickler). Never a request
 * being answered nor a healthy event client: only when every slot holds one of those is
 * the newcomer answered 503. Requests on one connection are answered in order: a request
 * that cannot be answered at once (a file under --web-root, read in the thread pool)
 * pauses the parser and the rest of the bytes wait for it. Errors that leave the stream
 * unparseable close the connection after the answer, with a short lingering read so the
 * client sees the answer, not a reset.
 *
 * What may be answered is decided by web_auth.c (the Host rule against DNS rebinding,
 * Basic credentials of the running WEBU, routes, Origin for POST); this file carries the
 * decision out.
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
#include "web_req.h"

#define READ_BUF_SIZE 65536
#define LINGER_MS 2000          /* reading what a refused client still sends */
#define WRITE_QUEUE_PAUSE (256 * 1024) /* stop parsing a client that does not read */
#define FILE_MAX (4 * 1024 * 1024) /* --web-root files: the page is a few KiB */

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

struct m0__web_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  struct m0__web *w;
  struct m0__web_conn *next, *prev;
  struct m0__web_req req;
  unsigned handles;    /* libuv handles not yet closed; freed at 0 (and no work) */
  unsigned writes;     /* write requests in flight */
  bool closing;        /* uv_close called */
  bool counted;        /* counts against M0__WEB_MAX_CONNS */
  bool close_after;    /* close once the queued answers are written */
  bool lingering;      /* shut down for writing; reading and dropping until EOF */
  bool stream;         /* an event stream client */
  bool work_pending;   /* a file read or a flash write is in the thread pool */
  bool paused;         /* parser paused, reading stopped; bytes kept in pending */
  bool served;         /* has answered a request: idle now means kept alive */
  bool keep_alive;     /* the current request allows another after it */
  bool api;            /* the current request's refusals are JSON */
  bool head_req;       /* the current request is HEAD */
  uint64_t since;      /* loop ms: when the server started waiting for the request, or
                        * the linger began */
  char *pending;
  size_t pending_len;
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
  m0__web_req_free(&c->req);
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
  c->since = uv_now(c->w->loop);
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

/* An error answer: JSON for the API, text for the page. */
static void answer_error(struct m0__web_conn *c, int status, const char *message,
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
  struct answer a = {
      .status = status,
      .content_type = json ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
      .body = b.data,
      .len = b.len,
      .owned = b.data,
      .extra = extra,
      .head = c->head_req,
  };
  answer(c, &a);
}

/* 421: the Host rule (web_auth.c) refused the name; say which and how to allow it. */
static void answer_host_refused(struct m0__web_conn *c, const char *host) {
  struct m0__web_buf msg = {0}, b = {0};
  m0__web_buf_str(&msg, "this server does not answer to the host name \"");
  m0__web_buf_str(&msg, host);
  m0__web_buf_str(&msg, "\" (a guard against DNS rebinding): use its IP address or "
                        "localhost, or start m0emu with --web-host ");
  m0__web_buf_str(&msg, host);
  if (msg.failed) {
    m0__web_buf_free(&msg);
    answer_error(c, 500, "out of memory", NULL);
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
    answer_error(c, 500, "out of memory", NULL);
    return;
  }
  struct answer a = {
      .status = 421,
      .content_type = c->api ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
      .body = b.data,
      .len = b.len,
      .owned = b.data,
      .head = c->head_req,
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
  const struct m0__web_hval *last = &c->req.h[M0__WEB_H_LAST_ID];
  if (last->seen && !last->over)
    after = strtoull(last->v, NULL, 10);
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

static bool etag_match(const struct m0__web_hval *inm, const char *etag) {
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
      .status = etag_match(&c->req.h[M0__WEB_H_INM], etag) ? 304 : 200,
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
  int n = snprintf(fw->path, sizeof fw->path, "%s%s", w->web_root, path);
  if (n < 0 || (size_t)n >= sizeof fw->path) {
    free(fw);
    answer_error(c, 404, "no such page", NULL); /* longer than any file name */
    return false;
  }
  if (uv_queue_work(w->loop, &fw->req, file_work, file_done) != 0) {
    free(fw);
    answer_error(c, 500, "cannot queue the file read", NULL);
    return false;
  }
  c->work_pending = true;
  return true;
}

/* ---- routing ---- */

/* Answer the request just parsed. Returns true when the answer is not written yet
 * (a file read) or the connection became a stream: parsing then pauses. */
static bool dispatch(struct m0__web_conn *c) {
  struct m0__web *w = c->w;
  const struct m0_config *run = m0_dev_running(w->dev);
  struct m0__web_policy policy = {
      .user = run->webu_user, .pass = run->webu_pass, .hosts = w->hosts, .nhosts = w->nhosts};
  struct m0__web_head head;
  m0__web_req_head(&c->req, &head);
  struct m0__web_decision d; /* 8 KiB of path: on the stack, once per request */
  m0__web_decide(&head, &policy, &d);
  c->api = d.api;
  c->head_req = d.head;
  if (d.status == 421) {
    answer_host_refused(c, d.host);
    return false;
  }
  if (d.status != 0) {
    answer_error(c, d.status, d.message, d.extra[0] ? d.extra : NULL);
    return false;
  }

  struct m0__web_buf b = {0};
  switch (d.route) {
  case M0__WEB_R_FILE:
    return serve_file(c, d.path, d.head);
  case M0__WEB_R_STATUS:
    m0__web_api_status(w, &b);
    answer_json(c, 200, &b, d.head);
    break;
  case M0__WEB_R_CONFIG:
    m0__web_api_config(w, &b);
    answer_json(c, 200, &b, d.head);
    break;
  case M0__WEB_R_SET_CONFIG: {
    int status = m0__web_api_set_config(w, c->req.body ? c->req.body : "", c->req.body_len,
                                        &b, config_answer, c);
    if (status == 0) { /* the flash write is in flight: answered from config_answer */
      c->work_pending = true;
      return true;
    }
    answer_json(c, status, &b, false);
    break;
  }
  case M0__WEB_R_RESTART:
    m0__web_buf_str(&b, "{\"ok\":true,\"restarting\":true}");
    answer_json(c, 200, &b, false);
    /* After the answer is queued: the restart re-binds the server (WEBPORT). */
    m0_dev_restart(w->dev, uv_hrtime(), "web");
    break;
  case M0__WEB_R_FACTORY:
    m0__web_buf_str(&b, "{\"ok\":true,\"restarting\":true}");
    answer_json(c, 200, &b, false);
    m0_dev_factory_reset(w->dev, uv_hrtime());
    break;
  case M0__WEB_R_EVENTS:
    if (d.head) {
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

/* ---- deadlines ---- */

/* The server waits for a request from now: its last byte within M0__WEB_REQUEST_MS. */
static void wait_request(struct m0__web_conn *c) {
  c->since = uv_now(c->w->loop);
  arm_deadline(c, M0__WEB_REQUEST_MS);
}

/* ms left of the whole-request deadline (0 when it has passed). */
static uint64_t request_left(const struct m0__web_conn *c) {
  uint64_t elapsed = uv_now(c->w->loop) - c->since;
  return elapsed >= M0__WEB_REQUEST_MS ? 0 : M0__WEB_REQUEST_MS - elapsed;
}

/* ---- request reader hooks (web_req.c) ---- */

static void on_req_begin(struct m0__web_req *r) {
  struct m0__web_conn *c = r->owner;
  /* The head must now come within M0__WEB_HEAD_MS, the whole within what is left. */
  uint64_t left = request_left(c);
  arm_deadline(c, left < M0__WEB_HEAD_MS ? left : M0__WEB_HEAD_MS);
}

static void on_req_head(struct m0__web_req *r) {
  struct m0__web_conn *c = r->owner;
  c->keep_alive = r->keep_alive;
  arm_deadline(c, request_left(c));
  /* curl asks before sending a body over 1 KiB and otherwise waits a second. */
  if (r->expect_continue) {
    static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t buf = uv_buf_init((char *)go_on, sizeof go_on - 1);
    conn_write(c, &buf, 1, NULL, NULL);
  }
}

static int on_req_complete(struct m0__web_req *r) {
  struct m0__web_conn *c = r->owner;
  uv_timer_stop(&c->timer);
  c->keep_alive = r->keep_alive;
  bool waiting = dispatch(c);
  c->served = true;
  if (c->closing || c->close_after || waiting)
    return HPE_PAUSED;
  wait_request(c); /* for the next request; also bounds a client that does not read */
  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > WRITE_QUEUE_PAUSE)
    return HPE_PAUSED; /* the client does not read its answers: wait for it */
  return 0;
}

static const struct m0__web_req_hooks req_hooks = {
    .on_begin = on_req_begin,
    .on_head = on_req_head,
    .on_complete = on_req_complete,
};

/* ---- reading ---- */

static void feed(struct m0__web_conn *c, const char *data, size_t len) {
  size_t used;
  const char *message;
  llhttp_errno_t err = m0__web_req_feed(&c->req, data, len, &used, &message);
  if (err == HPE_OK || c->closing)
    return;
  if (err == HPE_PAUSED) {
    if (c->stream || c->close_after || c->lingering)
      return; /* never resumed: what follows is ignored */
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
  c->api = strncmp(c->req.url, "/api/", 5) == 0; /* web_req.c clears it when malformed */
  c->head_req = false;
  answer_error(c, c->req.error_status, message, NULL);
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
  m0__web_req_resume(&c->req);
  wait_request(c);
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
  if (c->lingering || !c->req.in_request) {
    conn_close(c); /* linger over, an idle keep-alive connection, or one not reading */
    return;
  }
  /* The request did not arrive in time: a trickling or stalled client. */
  c->close_after = true;
  c->keep_alive = false;
  c->api = strncmp(c->req.url, "/api/", 5) == 0;
  c->head_req = false;
  answer_error(c, 408,
               request_left(c) == 0 ? "the request took longer than 10 s"
                                    : "the request line and headers took longer than 3 s",
               NULL);
  if (c->writes == 0)
    conn_finish(c);
}

/* ---- slots ---- */

/* How readily a connection gives its slot to a newcomer: lower first, -1 never. */
static int evict_class(struct m0__web_conn *c) {
  if (c->closing || !c->counted)
    return -1;
  if (c->stream)
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > M0__WEB_SSE_BEHIND ? 1
                                                                                       : -1;
  if (c->lingering)
    return 0; /* answered; only reading what the client still sends */
  if (c->work_pending || c->writes > 0 || c->paused || c->close_after)
    return -1; /* a request being answered */
  if (!c->req.in_request && c->served)
    return 0; /* idle keep-alive */
  return 2;   /* waiting for its request: new, silent or trickling */
}

/* The connection to close for a newcomer when every slot is taken, or NULL. */
static struct m0__web_conn *evict_pick(struct m0__web *w) {
  struct m0__web_conn *best = NULL;
  int best_class = -1;
  size_t best_bytes = 0;
  for (struct m0__web_conn *c = w->conns; c != NULL; c = c->next) {
    int k = evict_class(c);
    if (k < 0)
      continue;
    size_t bytes = c->req.in_request ? c->req.head_bytes + c->req.body_len : 0;
    bool better = best == NULL || k < best_class ||
                  (k == best_class && (c->since < best->since ||
                                       (c->since == best->since && bytes < best_bytes)));
    if (better) {
      best = c;
      best_class = k;
      best_bytes = bytes;
    }
  }
  return best;
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
    struct m0__web_conn *victim = evict_pick(w);
    if (victim == NULL) {
      refuse_connection(w, server);
      return;
    }
    conn_close(victim);
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
  m0__web_req_init(&c->req, &req_hooks, c);
  c->keep_alive = true;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  wait_request(c);
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

int m0__web_allow_hosts(struct m0__web *w, const char *const *names, size_t n) {
  if (n > M0__WEB_HOSTS_MAX)
    return UV_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!m0__web_host_name_valid(names[i]))
      return UV_EINVAL;
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    for (; names[i][k] != '\0'; k++) {
      char ch = names[i][k];
      w->host_names[i][k] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    w->host_names[i][k] = '\0';
    w->hosts[i] = w->host_names[i];
  }
  w->nhosts = n;
  return 0;
}

uint16_t m0__web_port(const struct m0__web *w) {
  return w->port;
}

int m0__web_init(struct m0__web *w, uv_loop_t *loop, struct m0_dev *dev,
                 struct m0__events *events, const char *bind_addr, const char *web_root,
                 const struct m0_factory *factory) {
  memset(w, 0, offsetof(struct m0__web, web_root));
  w->web_root[0] = '\0';
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
