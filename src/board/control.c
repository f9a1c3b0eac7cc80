/* control.c: the control channel's transport (control.h, docs/control.md): the Unix and
 * loopback TCP listeners, one client per connection, request lines in, answer, event and
 * UART lines out.
 *
 * A client gets a greeting, then every line it sends is one request (control_cmd.c runs
 * it) answered by one line. Requests are read and answered in order, one at a time, from
 * the read callback: there is no queue of requests to bound. What a client is sent goes
 * through one function with two kinds: answers are never dropped (a client that owes
 * 16 MiB is disconnected instead: it stopped reading long ago), stream lines (events and
 * UART bytes) are dropped beyond 1 MiB owed and counted, and a `control.lost` line says
 * how many once the client caught up. A client owing 1 MiB is not read meanwhile, so a
 * pipelining client cannot grow its backlog by asking. Lines are limited to 256 KiB; a
 * longer one is refused whole (error "too-long") and the connection goes on.
 * One piece: the listeners, the clients' reading and writing and the event history
 * share the client's private struct and its write queue accounting (owed(), the
 * 1 MiB / 16 MiB limits); only the answers' text buffers live apart (control_jbuf.c).
 *
 * Events reach every subscriber through the sink's process-wide tap (events.c), as the
 * same lines --events writes; the last 512 are kept from the process's first event on
 * (the tap is set before the boards are made, the listeners open once they exist), so
 * that a script can subscribe after an action and still see what the action caused
 * (subscribe's replay and since_ms, which m0ctl's `wait --since` uses). The tap runs inside core calls: nothing
 * on this path may call the core, so a failed write only closes the client, and
 * uart_ctl.c applies the consequences (the host detached) from its own callback.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board.h"
#include "control.h"

#define READ_BUF 65536

struct ctl_write {
  uv_write_t req;
  size_t len;
  char data[];
};

struct m0__ctl_client {
  struct m0__control *ctl;
  struct m0__ctl_client *prev, *next;
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_pipe_t pipe;
    uv_tcp_t tcp;
  } io;
  unsigned long number;
  bool closing;
  bool reading;
  char *line;
  size_t len, cap;
  bool too_long;          /* discarding the rest of an over-long line */
  bool events;            /* subscribed to events */
  char ev_dev[M0__DEV_NAME_MAX + 1];
  bool ev_one;            /* ... of ev_dev only */
  uint64_t lost_events;   /* stream lines dropped since the last notice */
  uint64_t lost_uart;     /* UART bytes among them */
};

/* ---- clients: writing ---- */

static void client_close(struct m0__ctl_client *c, const char *why);
static void write_raw(struct m0__ctl_client *c, const char *data, size_t len);

static size_t owed(const struct m0__ctl_client *c) {
  return uv_stream_get_write_queue_size(&c->io.stream);
}

size_t m0__ctl_owed(const struct m0__ctl_client *c) { return c->closing ? 0 : owed(c); }

static void update_reading(struct m0__ctl_client *c);

static void on_written(uv_write_t *req, int status) {
  struct ctl_write *w = (struct ctl_write *)req;
  struct m0__ctl_client *c = req->data;
  free(w);
  if (c->closing)
    return;
  if (status < 0) {
    client_close(c, uv_strerror(status));
    return;
  }
  /* Caught up after drops: say how much was lost, once. */
  if ((c->lost_events > 0 || c->lost_uart > 0) && owed(c) < M0__CTL_STREAM_MAX / 2) {
    char line[160];
    int n = snprintf(line, sizeof line,
                     "{\"t_ms\":%llu,\"ev\":\"control.lost\",\"lines\":%llu,\"uart_bytes\":%llu}\n",
                     (unsigned long long)m0__sink_ms(&c->ctl->proc->sink),
                     (unsigned long long)c->lost_events, (unsigned long long)c->lost_uart);
    c->lost_events = c->lost_uart = 0;
    if (n > 0 && (size_t)n < sizeof line)
      write_raw(c, line, (size_t)n);
  }
  update_reading(c);
  /* A device held back by this client (a holding UART subscriber) may write again. */
  for (size_t i = 0; i < c->ctl->proc->board_count; i++)
    m0__uart_ctl_drained(c->ctl->proc->boards[i]);
}

/* Queue bytes to the client: straight to the socket while it takes them, the rest copied
 * into a write request. */
static void write_raw(struct m0__ctl_client *c, const char *data, size_t len) {
  if (c->closing || len == 0)
    return;
  if (owed(c) == 0) {
    uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(&c->io.stream, &buf, 1);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
    } else if (n != UV_EAGAIN && n != UV_ENOSYS) {
      client_close(c, uv_strerror(n));
      return;
    }
    if (len == 0)
      return;
  }
  struct ctl_write *w = malloc(sizeof *w + len);
  if (w == NULL) {
    client_close(c, "out of memory");
    return;
  }
  w->len = len;
  memcpy(w->data, data, len);
  w->req.data = c;
  uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
  int rc = uv_write(&w->req, &c->io.stream, &buf, 1, on_written);
  if (rc != 0) {
    free(w);
    client_close(c, uv_strerror(rc));
    return;
  }
  if (owed(c) > M0__CTL_OWED_MAX) {
    client_close(c, "it stopped reading its answers");
    return;
  }
  update_reading(c);
}

void m0__ctl_stream(struct m0__ctl_client *c, const char *line, size_t len, size_t uart_bytes) {
  if (c->closing)
    return;
  if (owed(c) + len > M0__CTL_STREAM_MAX) {
    c->lost_events++;
    c->lost_uart += uart_bytes;
    return;
  }
  write_raw(c, line, len);
}

/* ---- answers ---- */

static uint64_t now_ms(const struct m0__control *ctl) { return m0__sink_ms(&ctl->proc->sink); }

/* t_ms: when the request was taken, so every event it caused is stamped at or after it
 * (what `m0ctl wait --since` relies on). */
static void answer(struct m0__control *ctl, struct m0__ctl_client *c, const char *id,
                   bool ok, uint64_t t_ms, const char *body) {
  struct m0__jbuf b = {0};
  (void)ctl;
  m0__jb_printf(&b, "{\"id\":%s,\"ok\":%s,\"t_ms\":%llu,\"%s\":%s}\n", id,
                ok ? "true" : "false", (unsigned long long)t_ms, ok ? "result" : "error", body);
  if (b.failed) {
    client_close(c, "out of memory");
  } else {
    write_raw(c, b.s, b.len);
  }
  m0__jb_free(&b);
}

void m0__ctl_ok(struct m0__ctl_req *r, const char *result) {
  if (r->answered)
    return;
  r->answered = true;
  answer(r->ctl, r->client, r->id, true, r->t_ms, result != NULL ? result : "{}");
}

void m0__ctl_ok_later(struct m0__control *ctl, struct m0__ctl_client *client, const char *id,
                      const char *result) {
  answer(ctl, client, id, true, now_ms(ctl), result != NULL ? result : "{}");
}

int m0__ctl_error(struct m0__ctl_req *r, const char *code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  if (r->answered)
    return -1;
  r->answered = true;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct m0__jbuf b = {0};
  M0__JB_LIT(&b, "{\"code\":");
  m0__jb_str(&b, code);
  M0__JB_LIT(&b, ",\"message\":");
  m0__jb_str(&b, msg);
  M0__JB_LIT(&b, "}");
  answer(r->ctl, r->client, r->id, false, r->t_ms, b.failed ? "{\"code\":\"internal\"}" : b.s);
  m0__jb_free(&b);
  return -1;
}

/* ---- events ---- */

/* The device a line is about ("" when it names none) and its t_ms, read from the frame
 * events.c writes: {"t_ms":N,"ev":"name"[,"dev":"x"],...}. */
static bool line_matches(const char *line, const struct m0__ctl_client *c, uint64_t since) {
  unsigned long long t = strtoull(line + 8, NULL, 10); /* after {"t_ms": */
  if (t < since)
    return false;
  if (!c->ev_one)
    return true;
  char want[6 * M0__DEV_NAME_MAX + 16];
  if (c->ev_dev[0] == '\0')
    return strstr(line, ",\"dev\":") == NULL || strstr(line, ",\"dev\":\"\"") != NULL;
  size_t n = (size_t)snprintf(want, sizeof want, ",\"dev\":");
  m0_json_string(want + n, sizeof want - n, c->ev_dev);
  return strstr(line, want) != NULL;
}

static void on_event(void *ctx, const char *line) {
  struct m0__control *ctl = ctx;
  size_t len = strlen(line);
  char *copy = malloc(len + 2);
  if (copy == NULL)
    return; /* out of memory: the --events stream still has it */
  memcpy(copy, line, len);
  copy[len] = '\n';
  copy[len + 1] = '\0';
  unsigned slot = (ctl->hist_head + ctl->hist_len) % M0__CTL_HISTORY;
  if (ctl->hist_len == M0__CTL_HISTORY) { /* the oldest makes room */
    free(ctl->history[ctl->hist_head]);
    slot = ctl->hist_head;
    ctl->hist_head = (ctl->hist_head + 1) % M0__CTL_HISTORY;
  } else {
    ctl->hist_len++;
  }
  ctl->history[slot] = copy;
  for (struct m0__ctl_client *c = ctl->clients; c != NULL; c = c->next) {
    if (!c->closing && c->events && line_matches(line, c, 0))
      m0__ctl_stream(c, copy, len + 1, 0);
  }
}

void m0__ctl_subscribe(struct m0__ctl_req *r, const char *dev, unsigned replay,
                       uint64_t since_ms) {
  struct m0__ctl_client *c = r->client;
  unsigned first, i;
  c->events = true;
  c->ev_one = dev != NULL;
  snprintf(c->ev_dev, sizeof c->ev_dev, "%s", dev != NULL ? dev : "");
  /* The answer first, then the replayed lines, then live ones: in the stream's order. */
  char result[96];
  struct m0__control *ctl = r->ctl;
  unsigned matching = 0;
  for (i = 0; i < ctl->hist_len; i++) {
    const char *line = ctl->history[(ctl->hist_head + i) % M0__CTL_HISTORY];
    if (line_matches(line, c, since_ms))
      matching++;
  }
  unsigned skip = matching > replay ? matching - replay : 0;
  snprintf(result, sizeof result, "{\"replayed\":%u}", matching - skip);
  m0__ctl_ok(r, result);
  first = 0;
  for (i = 0; i < ctl->hist_len; i++) {
    const char *line = ctl->history[(ctl->hist_head + i) % M0__CTL_HISTORY];
    if (!line_matches(line, c, since_ms))
      continue;
    if (first++ < skip)
      continue;
    m0__ctl_stream(c, line, strlen(line), 0);
  }
}

void m0__ctl_clients(struct m0__ctl_req *r, struct m0__jbuf *out) {
  bool first = true;
  M0__JB_LIT(out, "{\"clients\":[");
  for (struct m0__ctl_client *c = r->ctl->clients; c != NULL; c = c->next) {
    if (c->closing)
      continue;
    m0__jb_printf(out, "%s{\"client\":%lu,\"you\":%s,\"events\":%s,\"owed\":%zu,"
                  "\"lost_lines\":%llu,\"lost_uart_bytes\":%llu}", first ? "" : ",",
                  c->number, c == r->client ? "true" : "false", c->events ? "true" : "false",
                  owed(c), (unsigned long long)c->lost_events,
                  (unsigned long long)c->lost_uart);
    first = false;
  }
  M0__JB_LIT(out, "]}");
}

void m0__ctl_unsubscribe(struct m0__ctl_req *r) {
  r->client->events = false;
  m0__ctl_ok(r, NULL);
}

/* ---- clients: reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct m0__ctl_client *c = h->data;
  (void)suggested;
  *buf = uv_buf_init(c->ctl->rbuf, READ_BUF);
}

/* One line (without its newline). */
static void run_line(struct m0__ctl_client *c, char *line, size_t len) {
  struct m0__control *ctl = c->ctl;
  struct m0_json_member members[M0__CTL_MEMBERS_MAX];
  char err[160];
  struct m0__ctl_req r = {.ctl = ctl, .client = c, .t_ms = now_ms(ctl)};
  snprintf(r.id, sizeof r.id, "null");
  if (len > 0 && line[len - 1] == '\r')
    len--;
  size_t i = 0;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  if (i == len)
    return; /* blank lines are not requests (typing by hand) */
  char *scratch = malloc(len + 2 * M0__CTL_MEMBERS_MAX + 1);
  if (scratch == NULL) {
    m0__ctl_error(&r, "internal", "out of memory");
    return;
  }
  int n = m0_json_object(line, len, members, M0__CTL_MEMBERS_MAX, scratch,
                         len + 2 * M0__CTL_MEMBERS_MAX + 1, err, sizeof err);
  if (n < 0) {
    m0__ctl_error(&r, "parse", "not a JSON object: %s", err);
    free(scratch);
    return;
  }
  r.m = members;
  r.n = (unsigned)n;
  m0__ctl_dispatch(&r);
  if (!r.answered) /* every command answers; a handler that forgot is a bug, not silence */
    m0__ctl_error(&r, "internal", "the command gave no answer");
  free(scratch);
}

static void take(struct m0__ctl_client *c, const char *data, size_t len) {
  while (len > 0 && !c->closing) {
    const char *nl = memchr(data, '\n', len);
    size_t part = nl != NULL ? (size_t)(nl - data) : len;
    if (!c->too_long) {
      if (c->len + part > M0__CTL_LINE_MAX) {
        c->too_long = true;
        c->len = 0;
      } else {
        if (c->len + part + 1 > c->cap) {
          size_t cap = c->cap ? c->cap : 1024;
          while (cap < c->len + part + 1)
            cap *= 2;
          char *p = realloc(c->line, cap);
          if (p == NULL) {
            client_close(c, "out of memory");
            return;
          }
          c->line = p;
          c->cap = cap;
        }
        memcpy(c->line + c->len, data, part);
        c->len += part;
      }
    }
    if (nl == NULL)
      return;
    data += part + 1;
    len -= part + 1;
    if (c->too_long) {
      struct m0__ctl_req r = {.ctl = c->ctl, .client = c, .t_ms = now_ms(c->ctl)};
      snprintf(r.id, sizeof r.id, "null");
      c->too_long = false;
      m0__ctl_error(&r, "too-long", "a request line longer than %u bytes was ignored",
                    M0__CTL_LINE_MAX);
      continue;
    }
    c->line[c->len] = '\0';
    size_t n = c->len;
    c->len = 0;
    run_line(c, c->line, n);
  }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct m0__ctl_client *c = s->data;
  if (nread < 0) {
    client_close(c, nread == UV_EOF ? NULL : uv_strerror((int)nread));
    return;
  }
  take(c, buf->base, (size_t)nread);
}

static void update_reading(struct m0__ctl_client *c) {
  bool want = !c->closing && owed(c) < M0__CTL_READ_PAUSE;
  if (want == c->reading)
    return;
  if (want) {
    if (uv_read_start(&c->io.stream, on_alloc, on_read) == 0)
      c->reading = true;
  } else {
    uv_read_stop(&c->io.stream);
    c->reading = false;
  }
}

/* ---- clients: life ---- */

static void on_client_closed(uv_handle_t *h) {
  struct m0__ctl_client *c = h->data;
  struct m0__control *ctl = c->ctl;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    ctl->clients = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  free(c->line);
  free(c);
}

static void client_close(struct m0__ctl_client *c, const char *why) {
  struct m0__control *ctl = c->ctl;
  if (c->closing)
    return;
  c->closing = true;
  c->reading = false;
  ctl->nclients--;
  if (why != NULL)
    m0__log(&ctl->proc->log, "control: client %lu closed: %s", c->number, why);
  for (size_t i = 0; i < ctl->proc->board_count; i++)
    m0__uart_ctl_forget(ctl->proc->boards[i], c);
  uv_close(&c->io.handle, on_client_closed);
}

static void greet(struct m0__ctl_client *c) {
  struct m0__control *ctl = c->ctl;
  struct m0__jbuf b = {0};
  m0__jb_printf(&b, "{\"m0emu\":\"%s\",\"protocol\":%d,\"pid\":%ld,\"t_ms\":%llu,"
                "\"devices\":[", M0EMU_VERSION, M0__CTL_PROTOCOL, (long)getpid(),
                (unsigned long long)now_ms(ctl));
  for (size_t i = 0; i < ctl->proc->board_count; i++) {
    if (i > 0)
      M0__JB_LIT(&b, ",");
    m0__jb_str(&b, ctl->proc->boards[i]->events.name);
  }
  M0__JB_LIT(&b, "]}\n");
  if (!b.failed)
    write_raw(c, b.s, b.len);
  m0__jb_free(&b);
}

static void on_connection(uv_stream_t *server, int status) {
  struct m0__control *ctl = server->data;
  if (status < 0 || ctl->closing)
    return;
  struct m0__ctl_client *c = calloc(1, sizeof *c);
  if (c == NULL)
    return;
  c->ctl = ctl;
  int rc = server == (uv_stream_t *)&ctl->tcp_srv ? uv_tcp_init(ctl->loop, &c->io.tcp)
                                                   : uv_pipe_init(ctl->loop, &c->io.pipe, 0);
  if (rc != 0) {
    free(c);
    return;
  }
  c->io.handle.data = c;
  c->next = ctl->clients;
  if (ctl->clients != NULL)
    ctl->clients->prev = c;
  ctl->clients = c;
  ctl->nclients++;
  c->number = ++ctl->next_client;
  if (uv_accept(server, &c->io.stream) != 0) {
    client_close(c, "accept failed");
    return;
  }
  if (ctl->nclients > M0__CTL_CLIENTS_MAX) {
    static const char full[] = "{\"id\":null,\"ok\":false,\"t_ms\":0,\"error\":{\"code\":\"busy\","
                               "\"message\":\"too many control clients\"}}\n";
    write_raw(c, full, sizeof full - 1);
    client_close(c, "too many clients");
    return;
  }
  m0__log(&ctl->proc->log, "control: client %lu connected", c->number);
  greet(c);
  update_reading(c);
}

/* ---- the server ---- */

int m0__control_init(struct m0__control *ctl, struct m0__proc *p) {
  memset(ctl, 0, sizeof *ctl);
  ctl->proc = p;
  ctl->loop = &p->loop;
  ctl->rbuf = malloc(READ_BUF);
  if (ctl->rbuf == NULL)
    return -ENOMEM;
  p->sink.tap = on_event;
  p->sink.tap_ctx = ctl;
  return 0;
}

int m0__control_open(struct m0__control *ctl, const char *path, uint16_t tcp_port, char *err,
                     size_t cap) {
  if (path != NULL) {
    struct stat st;
    snprintf(ctl->path, sizeof ctl->path, "%s", path);
    /* A socket left by a process that died is replaced; anything else is not ours. */
    if (lstat(path, &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, cap, "--control %s: exists and is not a socket", path);
        return -EEXIST;
      }
      unlink(path);
    }
    int rc = uv_pipe_init(ctl->loop, &ctl->unix_srv, 0);
    if (rc == 0) {
      ctl->unix_open = true;
      ctl->unix_srv.data = ctl;
      mode_t old = umask(077); /* the channel controls the device: its owner only */
      rc = uv_pipe_bind(&ctl->unix_srv, path);
      umask(old);
      if (rc == 0) {
        ctl->path_made = true;
        rc = uv_listen((uv_stream_t *)&ctl->unix_srv, 64, on_connection);
      }
    }
    if (rc != 0) {
      snprintf(err, cap, "--control %s: %s", path, uv_strerror(rc));
      return rc;
    }
  }
  if (tcp_port != 0) {
    struct sockaddr_in sa;
    int rc = uv_tcp_init(ctl->loop, &ctl->tcp_srv);
    if (rc == 0) {
      ctl->tcp_open = true;
      ctl->tcp_srv.data = ctl;
      uv_ip4_addr("127.0.0.1", tcp_port, &sa);
      rc = uv_tcp_bind(&ctl->tcp_srv, (const struct sockaddr *)&sa, 0);
      if (rc == 0)
        rc = uv_listen((uv_stream_t *)&ctl->tcp_srv, 64, on_connection);
    }
    if (rc != 0) {
      snprintf(err, cap, "--control-port %u: cannot listen on 127.0.0.1:%u: %s",
               (unsigned)tcp_port, (unsigned)tcp_port, uv_strerror(rc));
      return rc;
    }
    ctl->tcp_port = tcp_port;
  }
  return 0;
}

void m0__control_close(struct m0__control *ctl) {
  if (ctl->closing)
    return;
  ctl->closing = true;
  if (ctl->proc != NULL && ctl->proc->sink.tap == on_event)
    ctl->proc->sink.tap = NULL;
  for (struct m0__ctl_client *c = ctl->clients; c != NULL; c = c->next)
    client_close(c, NULL);
  if (ctl->unix_open) {
    ctl->unix_open = false;
    uv_close((uv_handle_t *)&ctl->unix_srv, NULL);
  }
  if (ctl->tcp_open) {
    ctl->tcp_open = false;
    uv_close((uv_handle_t *)&ctl->tcp_srv, NULL);
  }
  if (ctl->path_made) {
    ctl->path_made = false;
    unlink(ctl->path);
  }
}

void m0__control_free(struct m0__control *ctl) {
  if (ctl->proc != NULL && ctl->proc->sink.tap == on_event) /* not closed: init failed */
    ctl->proc->sink.tap = NULL;
  for (unsigned i = 0; i < ctl->hist_len; i++)
    free(ctl->history[(ctl->hist_head + i) % M0__CTL_HISTORY]);
  ctl->hist_len = 0;
  free(ctl->rbuf);
  ctl->rbuf = NULL;
}
