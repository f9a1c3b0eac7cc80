/* udp1500.c: the board's UDP 1500 socket: datagrams in as m0_dev_on_udp1500(), replies
 * out from the HAL's udp1500_send. No policy: what to answer, and whether, is the core's.
 *
 * Where it binds: --net loopback binds the --bind address (127.0.0.1), which is then the
 * module's address. --net host binds 0.0.0.0, because a socket bound to one address never
 * receives 255.255.255.255 (measured on Linux, UDP1500.md §2), and sets SO_BROADCAST so a
 * broadcast reply can go out; the module's address is still --bind unless that is a
 * wildcard (then the core reports WANN's static address). IPv4 only: the protocols carry
 * 4-byte addresses. A port refused for lack of privileges becomes 8000+port, as for every
 * other port of the device (spec §6.1). A fleet's modules each bind their own loopback
 * address, so all have the port; in --net host they share 0.0.0.0:port (SO_REUSEADDR:
 * Linux gives a broadcast to every such socket, a unicast datagram to one).
 */
#include "udp1500.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "m0/udp1500.h"

#define PRIVILEGED_MAP 8000

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags) {
  struct m0__udp1500_sock *u = h->data;
  struct m0_net_addr from;
  (void)flags; /* UV_UDP_PARTIAL: handed on cut; no request is that long */
  if (nread < 0) {
    m0__log(u->events, "udp1500: receive error %s", uv_strerror((int)nread));
    return;
  }
  if (addr == NULL || addr->sa_family != AF_INET)
    return; /* nothing more to read (nread 0, no address) */
  memset(&from, 0, sizeof from);
  uv_ip4_name((const struct sockaddr_in *)addr, from.host, sizeof from.host);
  from.port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
  m0_dev_on_udp1500(u->dev, uv_hrtime(), (const uint8_t *)buf->base, (size_t)nread, &from,
                    &u->here);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct m0__udp1500_sock *u = h->data;
  (void)suggested;
  *buf = uv_buf_init((char *)u->rbuf, sizeof u->rbuf);
}

static int bind_at(struct m0__udp1500_sock *u, const char *host, uint16_t port, bool shared) {
  struct sockaddr_in sa;
  int rc = uv_ip4_addr(host, port, &sa);
  if (rc == 0)
    rc = uv_udp_bind(&u->udp, (const struct sockaddr *)&sa, shared ? UV_UDP_REUSEADDR : 0);
  return rc;
}

int m0__udp1500_open(struct m0__udp1500_sock *u, uv_loop_t *loop, struct m0_dev *dev,
                     struct m0__events *events, const char *bind, bool net_host,
                     uint16_t port, bool broadcast, bool fleet) {
  struct sockaddr_in probe;
  const char *host;
  char where[96];
  int rc;
  memset(u, 0, offsetof(struct m0__udp1500_sock, rbuf)); /* rbuf untouched until a read */
  u->loop = loop;
  u->dev = dev;
  u->events = events;
  u->port = port;
  u->broadcast = broadcast && net_host;
  if (port == 0)
    return 0; /* --udp1500-port 0: no setup protocols */
  if (uv_ip4_addr(bind, 0, &probe) != 0) {
    m0__events_emitf(u->events, "udp1500.error",
                     "\"port\":%u,\"error\":\"EAFNOSUPPORT\",\"message\":\"%s\"", (unsigned)port,
                     "UDP 1500 is IPv4 only and --bind is not an IPv4 address");
    m0__log_at(events, M0__LOG_WARNING, "UDP %u: --bind %s is not IPv4: no setup protocols",
               (unsigned)port, bind);
    return 0;
  }
  /* In --net host a loopback --bind is no address on the LAN: WANN's is the module's. */
  snprintf(u->here.host, sizeof u->here.host, "%s",
           net_host && (ntohl(probe.sin_addr.s_addr) >> 24) == 127 ? "0.0.0.0" : bind);
  host = net_host ? "0.0.0.0" : bind;
  /* A fleet in --net host: every module on 0.0.0.0:port, SO_REUSEADDR, so a broadcast
   * reaches each (a unicast one of them); on loopback each has its own address. */
  bool shared = fleet && net_host;
  rc = uv_udp_init(loop, &u->udp);
  if (rc != 0)
    goto failed;
  u->udp.data = u;
  u->open = true;
  u->host_port = port;
  rc = bind_at(u, host, port, shared);
  if ((rc == UV_EACCES || rc == UV_EPERM) && port <= 65535 - PRIVILEGED_MAP) {
    u->host_port = (uint16_t)(PRIVILEGED_MAP + port);
    rc = bind_at(u, host, u->host_port, shared);
    if (rc == 0) {
      m0__events_emitf(u->events, "udp1500.port_mapped", "\"port\":%u,\"host_port\":%u",
                       (unsigned)port, (unsigned)u->host_port);
      m0__log_at(events, M0__LOG_INFO, "UDP port %u needs privileges: using host port %u",
                 (unsigned)port, (unsigned)u->host_port);
    }
  }
  if (rc == 0 && net_host)
    rc = uv_udp_set_broadcast(&u->udp, 1);
  if (rc == 0)
    rc = uv_udp_recv_start(&u->udp, on_alloc, on_recv);
  if (rc != 0)
    goto failed;
  u->here.port = u->host_port;
  snprintf(where, sizeof where, "%s:%u", host, (unsigned)u->host_port);
  m0__events_emitf(u->events, "udp1500.listening",
                   "\"bind\":\"%s\",\"port\":%u,\"host_port\":%u,\"reply\":\"%s\"", where,
                   (unsigned)port, (unsigned)u->host_port,
                   u->broadcast ? "broadcast" : "unicast");
  return 0;

failed:
  m0__events_emitf(u->events, "udp1500.error", "\"port\":%u,\"error\":\"%s\",\"message\":\"%s\"",
                   (unsigned)port, uv_err_name(rc), uv_strerror(rc));
  m0__log_at(events, M0__LOG_WARNING, "UDP %s:%u: %s: running without the setup protocols",
             host, (unsigned)port, uv_strerror(rc));
  u->host_port = 0;
  m0__udp1500_close(u);
  return 0;
}

struct send_req {
  uv_udp_send_t req;
  uint8_t data[];
};

static void on_sent(uv_udp_send_t *req, int status) {
  struct m0__udp1500_sock *u = req->handle->data;
  if (status != 0)
    m0__log(u->events, "udp1500: reply not sent: %s", uv_strerror(status));
  free(req);
}

void m0__udp1500_send(struct m0__udp1500_sock *u, const uint8_t *data, size_t len,
                      const struct m0_net_addr *to) {
  struct sockaddr_in dst;
  uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
  int rc;
  if (!u->open || u->host_port == 0)
    return;
  rc = uv_ip4_addr(to->host, to->port, &dst);
  if (rc != 0) {
    m0__log(u->events, "udp1500: no reply to %s: not an IPv4 address", to->host);
    return;
  }
  if (u->broadcast && (ntohl(dst.sin_addr.s_addr) >> 24) != 127)
    dst.sin_addr.s_addr = htonl(INADDR_BROADCAST);
  rc = uv_udp_try_send(&u->udp, &buf, 1, (const struct sockaddr *)&dst);
  if (rc == UV_EAGAIN) { /* the socket buffer is full: queue a copy */
    struct send_req *r = malloc(sizeof *r + len);
    if (r == NULL) {
      m0__log(u->events, "udp1500: reply dropped: out of memory");
      return;
    }
    memcpy(r->data, data, len);
    buf = uv_buf_init((char *)r->data, (unsigned)len);
    rc = uv_udp_send(&r->req, &u->udp, &buf, 1, (const struct sockaddr *)&dst, on_sent);
    if (rc != 0)
      free(r);
  }
  if (rc < 0)
    m0__log(u->events, "udp1500: reply to %s:%u not sent: %s", to->host, (unsigned)to->port,
            uv_strerror(rc));
}

uint16_t m0__udp1500_port(const struct m0__udp1500_sock *u) {
  return u->open ? u->host_port : 0;
}

void m0__udp1500_close(struct m0__udp1500_sock *u) {
  if (!u->open)
    return;
  u->open = false;
  uv_close((uv_handle_t *)&u->udp, NULL);
}
