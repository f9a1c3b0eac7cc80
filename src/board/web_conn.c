/* web_conn.c: one connection of the web server: reading, deadlines, slots, dispatch.
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
 * the newcomer answered 503 (web.c). Requests on one connection are answered in order: a
 * request that cannot be answered at once (a file under --web-root, read in the thread
 * pool; a form waiting for its flash write) pauses the parser and the rest of the bytes
 * wait for it. Errors that leave the stream unparseable close the connection after the
 * answer, with a short lingering read so the client sees the answer, not a reset.
 *
 * A complete request goes through the gate (web_auth.c), which finds its entry in the
 * route table (web_routes.c) once; the entry's handler answers it.
 */
#include <stdlib.h>
#include <string.h>

#include "m0/dev.h"
#include "web_conn.h"
#include "web_routes.h"

#define LINGER_MS 2000          /* reading what a refused client still sends */
#define WRITE_QUEUE_PAUSE (256 * 1024) /* stop parsing a client that does not read */

struct wreq {
  uv_write_t req;
  struct m0__web_conn *c;
  char *owned;
  struct m0__web_blob *blob;
};

/* ---- lifetime ---- */

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

void m0__web_conn_close(struct m0__web_conn *c) {
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

bool m0__web_conn_work_done(struct m0__web_conn *c) {
  c->work_pending = false;
  if (!c->closing)
    return true;
  if (c->handles == 0)
    conn_free(c); /* its handles closed while the work ran */
  return false;
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
    m0__web_conn_close(c);
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
    m0__web_conn_close(c);
    return;
  }
  req->data = c;
  c->lingering = true; /* no more parsing; on_shutdown arms the linger */
  uv_timer_stop(&c->timer);
}

/* ---- writing ---- */

static void on_write(uv_write_t *req, int status) {
  struct wreq *wr = (struct wreq *)req;
  struct m0__web_conn *c = wr->c;
  free(wr->owned);
  m0__web_blob_unref(wr->blob);
  free(wr);
  c->writes--;
  if (c->closing)
    return;
  if (status < 0) {
    m0__web_conn_close(c);
    return;
  }
  if (c->writes == 0 && c->close_after)
    conn_finish(c);
  else if (c->paused)
    m0__web_conn_resume(c);
}

void m0__web_conn_write(struct m0__web_conn *c, uv_buf_t *bufs, unsigned n, char *owned,
                        struct m0__web_blob *blob) {
  struct wreq *wr = c->closing || c->lingering ? NULL : malloc(sizeof *wr);
  if (wr == NULL) {
    free(owned);
    m0__web_blob_unref(blob);
    if (!c->closing && !c->lingering)
      m0__web_conn_close(c);
    return;
  }
  wr->c = c;
  wr->owned = owned;
  wr->blob = blob;
  if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, bufs, n, on_write) != 0) {
    free(owned);
    m0__web_blob_unref(blob);
    free(wr);
    m0__web_conn_close(c);
    return;
  }
  c->writes++;
}

/* ---- dispatch ---- */

/* Answer the request just parsed. Returns true when the answer is not written yet or
 * the connection became a stream: parsing then pauses. */
static bool dispatch(struct m0__web_conn *c) {
  struct m0__web *w = c->w;
  const struct m0_config *run = m0_dev_running(w->dev);
  struct m0__web_policy policy = {.user = run->webu_user,
                                  .pass = run->webu_pass,
                                  .hosts = w->hosts,
                                  .nhosts = w->nhosts,
                                  .routes = m0__web_routes,
                                  .nroutes = m0__web_route_count};
  struct m0__web_head head;
  m0__web_req_head(&c->req, &head);
  struct m0__web_decision d; /* 8 KiB of path: on the stack, once per request */
  m0__web_decide(&head, &policy, &d);
  c->api = d.api;
  c->head_req = d.head;
  if (d.status == 421) {
    m0__web_answer_host_refused(c, d.host);
    return false;
  }
  if (d.status != 0) {
    m0__web_answer_error(c, d.status, d.message, d.extra[0] ? d.extra : NULL);
    return false;
  }
  return d.route->handler(c, &d);
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

static void on_timer(uv_timer_t *t) {
  struct m0__web_conn *c = t->data;
  if (c->closing)
    return;
  if (c->lingering || !c->req.in_request) {
    m0__web_conn_close(c); /* linger over, an idle keep-alive connection, or one not reading */
    return;
  }
  /* The request did not arrive in time: a trickling or stalled client. */
  c->close_after = true;
  c->keep_alive = false;
  c->api = strncmp(c->req.url, "/api/", 5) == 0;
  c->head_req = false;
  m0__web_answer_error(c, 408,
                       request_left(c) == 0
                           ? "the request took longer than 10 s"
                           : "the request line and headers took longer than 3 s",
                       NULL);
  if (c->writes == 0)
    conn_finish(c);
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
    m0__web_conn_write(c, &buf, 1, NULL, NULL);
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
        m0__web_conn_close(c);
        return;
      }
      memcpy(c->pending, data + used, rest);
      c->pending_len = rest;
    }
    c->paused = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (!c->work_pending)
      m0__web_conn_resume(c); /* paused for the write queue: resumes now if it drained */
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
  m0__web_answer_error(c, c->req.error_status, message, NULL);
  if (c->writes == 0)
    conn_finish(c);
}

void m0__web_conn_resume(struct m0__web_conn *c) {
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
  *buf = uv_buf_init(c->w->read_buf, M0__WEB_READ_BUF);
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
    m0__web_conn_close(c); /* error, or EOF with nothing owed */
    return;
  }
  if (nread == 0 || c->lingering || c->stream || c->close_after || c->paused)
    return;
  feed(c, buf->base, (size_t)nread);
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

struct m0__web_conn *m0__web_conn_evict_pick(struct m0__web *w, const char **why) {
  static const char *const whys[3] = {"idle", "behind", "waiting"}; /* by class */
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
  *why = best != NULL ? whys[best_class] : NULL;
  return best;
}

/* ---- accepting ---- */

void m0__web_conn_accept(struct m0__web *w, uv_stream_t *server) {
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
    m0__web_conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  wait_request(c);
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
    m0__web_conn_close(c);
}
