/* uart_tcp.c: the module's UART as a TCP server (--uart tcp:ADDR:PORT, raw bytes, or
 * --uart rfc2217:ADDR:PORT, Telnet COM Port Control), after ser2net's model: a host
 * program connects instead of opening the pty.
 *
 * One client at a time. It is the device's host from accept to close (the UART line,
 * uart_line.c, attaches and detaches the core), and is accepted only while no other
 * front end has a host; anyone else is told so in one line and closed. What the core
 * queued for a client that left is dropped by the core's detach, never handed to the
 * next one (each connection has its own buffers, freed with it).
 * Back-pressure both ways, as a pty gives it: the socket is read only while the core
 * reads the UART, within its budget (4 KiB at a time, kept until taken); toward the host
 * at most 16 KiB wait here beyond the socket's own buffer, a write past that is short
 * and the core waits for m0_dev_on_uart_writable, sent from the write callback. Writes
 * are one in flight at a time: what the core writes meanwhile gathers into the next.
 * In RFC 2217 mode the protocol is rfc2217_server.c's; the host's settings reach the
 * core as a pty host's termios do, plus data bits and parity. A client's line starts at
 * 115200 8N1 (the factory AT+UART, like the pty); a raw client has no line settings at
 * all, so it never mismatches. The modem lines (CD, DSR, CTS) are up while connected.
 * Never called from inside the core except through the port's ops, which only move
 * data and flags: input that waits is resumed from an idle callback, not from there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

#define REFUSAL "m0emu: this UART already has a host; try again when it leaves\r\n"
#define SIGNATURE "m0emu " M0EMU_VERSION " USR-M0"

static struct m0__uart_tcp *tcp_of(struct m0__uart_port *port) {
  return (struct m0__uart_tcp *)((char *)port - offsetof(struct m0__uart_tcp, port));
}

static const char *kind(const struct m0__uart_tcp *t) {
  return t->cfg.rfc2217 ? "rfc2217" : "tcp";
}

static void host_port(char *out, size_t cap, const char *host, unsigned port) {
  snprintf(out, cap, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

static void emit(struct m0__uart_tcp *t, const char *name, const char *peer,
                 const char *extra) {
  char fields[192];
  size_t n = (size_t)snprintf(fields, sizeof fields, "\"uart\":\"%s\",\"peer\":", kind(t));
  m0__json_string(fields + n, sizeof fields - n, peer);
  n = strlen(fields);
  if (extra != NULL)
    snprintf(fields + n, sizeof fields - n, ",%s", extra);
  m0__events_emit(t->events, name, fields);
}

static void peer_name(uv_tcp_t *tcp, char *out, size_t cap) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  char host[64] = "?";
  unsigned port = 0;
  if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
      port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
      uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
      port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
  }
  host_port(out, cap, host, port);
}

/* ---- one client ---- */

static void on_conn_closed(uv_handle_t *h) {
  free(h->data);
}

/* The client is gone (or we end it): the device loses its host. quiet: the board is
 * closing, nobody is told. */
static void conn_end(struct m0__uart_conn *c, const char *reason, bool quiet) {
  struct m0__uart_tcp *t = c->srv;
  if (t == NULL)
    return;
  t->conn = NULL;
  c->srv = NULL;
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
  if (quiet)
    return;
  char extra[48];
  snprintf(extra, sizeof extra, "\"reason\":\"%s\"", reason);
  emit(t, "uart.closed", c->peer, extra);
  m0__uart_line_host(&t->port, false);
}

static void on_written(uv_write_t *req, int status);
static void on_kick(uv_idle_t *idle);

/* Send what waits, Telnet answers first, unless a write is in flight or the host asked
 * us to stop (FLOWCONTROL-SUSPEND). */
static void flush(struct m0__uart_conn *c) {
  struct m0__uart_tcp *t = c->srv;
  if (t == NULL || c->writing || c->broken || (t->cfg.rfc2217 && c->proto.suspended))
    return;
  size_t n = c->ctrl_len + c->out_len;
  if (n == 0)
    return;
  memcpy(c->wbuf, c->ctrl, c->ctrl_len);
  memcpy(c->wbuf + c->ctrl_len, c->out, c->out_len);
  c->ctrl_len = c->out_len = 0;
  uv_buf_t buf = uv_buf_init((char *)c->wbuf, (unsigned)n);
  int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
  if (rc != 0) {
    m0__log(t->events, "uart %s client %s: write: %s", kind(t), c->peer, uv_strerror(rc));
    c->broken = true; /* we may be inside the core's uart_write: end it from the loop */
    uv_idle_start(&t->kick, on_kick);
    return;
  }
  c->writing = true;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  struct m0__uart_conn *c = h->data;
  /* Reading runs only while nothing read waits (update_reading). */
  *buf = uv_buf_init((char *)c->in, c->in_len == 0 ? sizeof c->in : 0);
}

/* Read the socket only when what was read is all taken, and (raw) while the core reads
 * the UART. An RFC 2217 client is read while the core does not, so the commands that
 * come before the next data byte are still answered. */
static void update_reading(struct m0__uart_conn *c) {
  struct m0__uart_tcp *t = c->srv;
  if (t == NULL)
    return;
  bool want = c->in_len == 0 && (t->port.rx_on || t->cfg.rfc2217);
  if (want == c->reading)
    return;
  c->reading = want;
  if (want)
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  else
    uv_read_stop((uv_stream_t *)&c->tcp);
}

static void line_settings(struct m0__uart_tcp *t, struct m0__uart_conn *c) {
  const struct m0__rfc2217_line *l = &c->proto.line;
  m0__log(t->events, "uart rfc2217 client %s: %lu baud, %u data bits, parity %u, %u stop bits",
          c->peer, (unsigned long)l->baud, l->data_bits, l->parity, l->stop_bits);
  m0__uart_line_settings(&t->port, l->baud, l->data_bits, l->stop_bits, l->parity);
}

/* Give the core what was read, as far as it takes it. */
static void take_input(struct m0__uart_conn *c) {
  uint8_t data[M0__UART_TCP_IN];
  while (c->srv != NULL && c->in_len > 0) {
    struct m0__uart_tcp *t = c->srv;
    size_t budget = t->port.rx_on ? m0__uart_line_budget(&t->port) : 0;
    if (!t->cfg.rfc2217) {
      size_t n = budget < c->in_len ? budget : c->in_len;
      if (n == 0)
        break;
      const uint8_t *p = c->in + c->in_off;
      c->in_off += n;
      c->in_len -= n;
      m0__uart_line_rx(&t->port, p, n);
      continue;
    }
    struct m0__rfc2217_io io = {
        .data = data, .data_cap = budget < sizeof data ? budget : sizeof data,
        .reply = c->ctrl, .reply_len = c->ctrl_len, .reply_cap = sizeof c->ctrl};
    size_t took = m0__rfc2217_server_input(&c->proto, c->in + c->in_off, c->in_len, &io);
    c->in_off += took;
    c->in_len -= took;
    c->ctrl_len = io.reply_len;
    unsigned changes = c->proto.changes;
    c->proto.changes = 0;
    if (changes & M0__R2S_CH_PURGE_RX)
      c->out_len = 0; /* what is in flight is the socket's already */
    if (changes & M0__R2S_CH_LINE)
      line_settings(t, c);
    if (io.data_len > 0)
      m0__uart_line_rx(&t->port, data, io.data_len);
    if (c->srv == NULL)
      break;
    flush(c);
    if (c->want_writable && c->out_len < sizeof c->out && !c->writing && c->srv != NULL) {
      c->want_writable = false; /* a purge made room with nothing in flight */
      m0__uart_line_writable(&t->port);
    }
    if (took == 0)
      break;
  }
  if (c->in_len == 0)
    c->in_off = 0;
  update_reading(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  struct m0__uart_conn *c = s->data;
  if (c->srv == NULL)
    return;
  if (nread < 0) {
    if (nread != UV_ENOBUFS)
      conn_end(c, nread == UV_EOF ? "closed" : "reset", false);
    else
      update_reading(c);
    return;
  }
  c->in_off = 0;
  c->in_len = (size_t)nread;
  take_input(c);
}

static void on_written(uv_write_t *req, int status) {
  struct m0__uart_conn *c = req->data;
  c->writing = false;
  if (c->srv == NULL)
    return; /* closing: cancelled */
  if (status < 0) {
    conn_end(c, "reset", false);
    return;
  }
  flush(c);
  if (c->srv != NULL && c->want_writable && c->out_len < sizeof c->out) {
    c->want_writable = false;
    m0__uart_line_writable(&c->srv->port);
  }
  if (c->srv != NULL && c->in_len > 0)
    take_input(c); /* it may have waited for room for its answers */
}

/* ---- the port's ops (called from the core, through the line) ---- */

static size_t port_write(struct m0__uart_port *port, const uint8_t *data, size_t len) {
  struct m0__uart_tcp *t = tcp_of(port);
  struct m0__uart_conn *c = t->conn;
  if (c == NULL || len == 0)
    return 0;
  size_t room = sizeof c->out - c->out_len, took;
  if (t->cfg.rfc2217) {
    size_t framed;
    took = m0__rfc2217_server_encode(&c->proto, data, len, c->out + c->out_len, room, &framed);
    c->out_len += framed;
  } else {
    took = len < room ? len : room;
    memcpy(c->out + c->out_len, data, took);
    c->out_len += took;
  }
  if (took < len)
    c->want_writable = true;
  flush(c);
  return took;
}

static void on_kick(uv_idle_t *idle) {
  struct m0__uart_tcp *t = idle->data;
  uv_idle_stop(idle);
  if (t->conn != NULL && t->conn->broken)
    conn_end(t->conn, "reset", false);
  else if (t->conn != NULL)
    take_input(t->conn);
}

static void port_rx_enable(struct m0__uart_port *port, bool enable) {
  struct m0__uart_tcp *t = tcp_of(port);
  struct m0__uart_conn *c = t->conn;
  if (c == NULL)
    return;
  /* Bytes read before the core stopped wait in c->in: they go on from the loop, not
   * from inside the core's call. */
  if (enable && c->in_len > 0)
    uv_idle_start(&t->kick, on_kick);
  update_reading(c);
}

static const struct m0__uart_port_ops tcp_ops = {
    .write = port_write, .rx_enable = port_rx_enable, .owner = NULL};

/* ---- the listener ---- */

static void refuse(struct m0__uart_tcp *t, uv_tcp_t *tcp) {
  char peer[64];
  peer_name(tcp, peer, sizeof peer);
  uv_buf_t buf = uv_buf_init((char *)REFUSAL, sizeof REFUSAL - 1);
  (void)uv_try_write((uv_stream_t *)tcp, &buf, 1); /* a new socket's buffer takes it */
  uv_close((uv_handle_t *)tcp, on_conn_closed);
  emit(t, "uart.refused", peer, "\"reason\":\"busy\"");
  m0__log_at(t->events, M0__LOG_INFO, "uart %s: refused %s: the UART already has a host",
             kind(t), peer);
}

static void on_connection(uv_stream_t *server, int status) {
  struct m0__uart_tcp *t = server->data;
  if (status < 0) {
    m0__log(t->events, "uart %s: accept: %s", kind(t), uv_strerror(status));
    return;
  }
  bool busy = t->conn != NULL || m0__uart_line_busy(t->port.line, &t->port);
  if (busy) {
    uv_tcp_t *tcp = malloc(sizeof *tcp);
    if (tcp == NULL)
      return;
    uv_tcp_init(t->loop, tcp);
    tcp->data = tcp;
    if (uv_accept(server, (uv_stream_t *)tcp) != 0) {
      uv_close((uv_handle_t *)tcp, on_conn_closed);
      return;
    }
    refuse(t, tcp);
    return;
  }
  struct m0__uart_conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return;
  uv_tcp_init(t->loop, &c->tcp);
  c->tcp.data = c;
  c->wreq.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1); /* an AT exchange is a few bytes each way */
  peer_name(&c->tcp, c->peer, sizeof c->peer);
  c->srv = t;
  t->conn = c;
  emit(t, "uart.connected", c->peer, NULL);
  if (t->cfg.rfc2217) {
    const struct m0__rfc2217_line start = {115200, 8, M0_PARITY_NONE, 1};
    m0__rfc2217_server_init(&c->proto, &start,
                            M0__R2S_MODEM_CD | M0__R2S_MODEM_DSR | M0__R2S_MODEM_CTS,
                            SIGNATURE);
    struct m0__rfc2217_io io = {.reply = c->ctrl, .reply_cap = sizeof c->ctrl};
    m0__rfc2217_server_start(&c->proto, &io);
    c->ctrl_len = io.reply_len;
  }
  m0__uart_line_host(&t->port, true);
  if (c->srv != NULL && t->cfg.rfc2217)
    m0__uart_line_settings(&t->port, 115200, 8, 1, M0_PARITY_NONE);
  if (c->srv == NULL)
    return;
  flush(c);
  update_reading(c);
}

static int fail(char *err, size_t cap, const struct m0__uart_tcp *t, const char *what,
                int rc) {
  char where[80];
  host_port(where, sizeof where, t->cfg.addr, t->cfg.port);
  snprintf(err, cap, "--uart %s:%s: %s: %s", kind(t), where, what, uv_strerror(rc));
  return rc;
}

int m0__uart_tcp_open(struct m0__uart_tcp *t, uv_loop_t *loop, struct m0__uart_line *line,
                      const struct m0__uart_net_cfg *cfg, struct m0__events *events,
                      char *err, size_t cap) {
  memset(t, 0, sizeof *t);
  t->loop = loop;
  t->cfg = *cfg;
  t->events = events;
  struct sockaddr_storage ss;
  int rc = strchr(cfg->addr, ':') != NULL
               ? uv_ip6_addr(cfg->addr, cfg->port, (struct sockaddr_in6 *)&ss)
               : uv_ip4_addr(cfg->addr, cfg->port, (struct sockaddr_in *)&ss);
  if (rc != 0)
    return fail(err, cap, t, "not an address", rc);
  uv_tcp_init(loop, &t->listener);
  uv_idle_init(loop, &t->kick);
  t->listener.data = t->kick.data = t;
  t->listener_open = true;
  rc = uv_tcp_bind(&t->listener, (const struct sockaddr *)&ss, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&t->listener, 4, on_connection);
  if (rc != 0)
    return fail(err, cap, t, "cannot listen", rc);
  int len = sizeof ss;
  if (uv_tcp_getsockname(&t->listener, (struct sockaddr *)&ss, &len) == 0)
    t->bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
  m0__uart_line_add(line, &t->port, kind(t), &tcp_ops);
  char bind[80], fields[128];
  host_port(bind, sizeof bind, cfg->addr, t->bound_port);
  size_t n = (size_t)snprintf(fields, sizeof fields, "\"uart\":\"%s\",\"bind\":", kind(t));
  m0__json_string(fields + n, sizeof fields - n, bind);
  m0__events_emit(events, "uart.listening", fields);
  return 0;
}

void m0__uart_tcp_url(const struct m0__uart_tcp *t, char *out, size_t cap) {
  char where[80];
  host_port(where, sizeof where, t->cfg.addr, t->bound_port);
  snprintf(out, cap, "%s://%s", t->cfg.rfc2217 ? "rfc2217" : "socket", where);
}

void m0__uart_tcp_close(struct m0__uart_tcp *t) {
  if (t->conn != NULL)
    conn_end(t->conn, "local", true);
  if (t->listener_open) {
    t->listener_open = false;
    uv_close((uv_handle_t *)&t->listener, NULL);
    uv_close((uv_handle_t *)&t->kick, NULL);
  }
}
