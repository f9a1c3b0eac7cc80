/* web.c: the admin web server (spec §7) as the board sees it (web.h): listening on the
 * port WEBPORT asks for, accepting, and the server's life.
 *
 * The privileged-port rule is the one the links follow (spec §6.1): a port below 1024
 * that cannot be bound for lack of privilege is bound at 8000+port instead, and the
 * event web.port_mapped says so. A port that cannot be bound at all is reported
 * (web.error) and the device runs on without its page. The server re-binds only when
 * the port asked for changes, so a restart keeps the page's connections.
 *
 * At most 64 connections: a newcomer over the cap takes the slot of the connection
 * furthest from being answered (web_conn.c picks it), or, when every slot is being
 * answered, gets a short 503 and is closed, never queued unseen. What a connection does
 * is in web_conn.c and the files it calls (web.h lists them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "board.h"
#include "web_conn.h"

struct m0__web_listener {
  uv_tcp_t tcp;
  struct m0__web *w;
};

static void emit(struct m0__web *w, const char *name, const char *fields) {
  if (w->events != NULL)
    m0__events_emit(w->events, name, fields);
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

/* Said, so that a client that lost its connection to a newcomer can be told from a
 * server that dropped it. */
static void evicted(struct m0__web *w, struct m0__web_conn *c, const char *why) {
  struct sockaddr_storage sa;
  int len = sizeof sa;
  char ip[64] = "", peer[96];
  unsigned port = 0;
  if (w->events == NULL)
    return;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &len) == 0 &&
      uv_ip_name((struct sockaddr *)&sa, ip, sizeof ip) == 0)
    port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                          : ((struct sockaddr_in *)&sa)->sin_port);
  m0_json_hostport(peer, sizeof peer, ip, port);
  m0__events_emitf(w->events, "web.evicted", "\"peer\":%s,\"why\":\"%s\"", peer, why);
}

static void on_connection(uv_stream_t *server, int status) {
  struct m0__web_listener *l = server->data;
  struct m0__web *w = l->w;
  if (status < 0 || w->closing)
    return;
  if (w->nconns >= M0__WEB_MAX_CONNS) {
    const char *why;
    struct m0__web_conn *victim = m0__web_conn_evict_pick(w, &why);
    if (victim == NULL) {
      refuse_connection(w, server);
      return;
    }
    evicted(w, victim, why);
    m0__web_conn_close(victim);
  }
  m0__web_conn_accept(w, server);
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
  uint16_t mapped;
  if (m0__net_port_unprivileged(rc, port, &mapped)) {
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

int m0__web_init(struct m0__web *w, uv_loop_t *loop, struct m0__turn *turn,
                 struct m0_dev *dev, struct m0__events *events, const char *bind_addr,
                 const char *web_root, const struct m0_factory *factory) {
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
  w->read_buf = malloc(M0__WEB_READ_BUF);
  if (w->read_buf == NULL)
    return UV_ENOMEM;
  m0__web_stream_init(w, turn);
  return 0;
}

void m0__web_close(struct m0__web *w) {
  if (w->closing)
    return;
  w->closing = true;
  listener_close(w);
  for (struct m0__web_conn *c = w->conns; c != NULL; c = c->next)
    m0__web_conn_close(c);
  m0__web_stream_close(w);
  free(w->read_buf);
  w->read_buf = NULL;
}
