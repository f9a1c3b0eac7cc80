/* net_udp.c: UDP links: bind, send, receive.
 *
 * One datagram per frame, never gathered (a datagram is the frame's boundary). A send
 * goes straight to the socket; only when its buffer is full is the datagram copied and
 * queued, up to 1 MiB per socket, beyond which datagrams are refused (ENOBUFS: the core
 * counts them dropped) like on a busy network. A received datagram is reported with its
 * source as the device sees it (net_addr.c's rewrite). The default peer is looked up
 * once at open in --net host mode; the socket works without it (UDPS still hears and
 * answers senders), sends to the peer fail until the next open.
 */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define UDP_QUEUE_MAX (1u << 20)

struct udp_send {
  uv_udp_send_t req;
  size_t len;
  uint8_t data[];
};

void m0__net_udp_open(struct m0__net_link *l) {
  int rc = m0__net_bind_port(l, l->req.local_port);
  if (rc != 0) {
    m0__net_defer_down(l, M0_DOWN_BIND, rc);
    return;
  }
  if (l->req.peer.port != 0) {
    rc = m0__net_dial_addr(l->net, &l->req.peer, m0__net_bind_family(l->net), &l->dial);
    if (rc == M0__NET_NEED_LOOKUP && m0__net_start_lookup(l) == 0)
      return; /* m0__net_udp_resolved reports up */
    l->have_dial = rc == 0;
  }
  m0__net_defer_up(l);
}

void m0__net_udp_resolved(struct m0__net_link *l, bool ok, int status) {
  l->have_dial = ok;
  if (!ok)
    m0__log(l->net->events, "link %u: cannot resolve %s: %s", l->id, l->req.peer.host,
            uv_strerror(status));
  m0__net_report_up(l);
}

void m0__net_udp_on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                         const struct sockaddr *addr, unsigned flags) {
  struct m0__net_link *l = h->data;
  struct m0__net *n = l->net;
  if (nread == 0 && addr == NULL)
    return; /* nothing more to read for now, not an empty datagram */
  if (l->closing || !l->attached)
    return;
  if (nread < 0) {
    m0__log(n->events, "link %u: UDP receive: %s", l->id, uv_strerror((int)nread));
    return;
  }
  if (flags & UV_UDP_PARTIAL)
    m0__log(n->events, "link %u: datagram cut to %zd bytes", l->id, nread);
  struct m0_net_addr from;
  m0__net_source_as_device(n, &l->req.peer, l->have_dial ? &l->dial : NULL, addr, &from);
  if (n->tap != NULL && nread > 0)
    n->tap(n->tap_ctx, l->id, false, (const uint8_t *)buf->base, (size_t)nread);
  m0_dev_on_link_rx(n->dev, uv_hrtime(), l->id, (const uint8_t *)buf->base, (size_t)nread,
                    &from);
}

static void on_udp_sent(uv_udp_send_t *req, int status) {
  struct udp_send *s = (struct udp_send *)req;
  struct m0__net_link *l = req->handle->data;
  if (status < 0 && status != UV_ECANCELED)
    m0__log(l->net->events, "link %u: datagram of %zu bytes not sent: %s", l->id, s->len,
            uv_strerror(status));
  free(s);
}

long m0__net_udp_send(struct m0__net_link *l, const uint8_t *data, size_t len,
                      const struct m0_net_addr *to) {
  struct m0__net *n = l->net;
  struct sockaddr_storage dst;
  if (to == NULL || (strcmp(to->host, l->req.peer.host) == 0 && to->port == l->req.peer.port)) {
    if (!l->have_dial)
      return UV_EDESTADDRREQ;
    dst = l->dial;
  } else {
    int rc = m0__net_dial_addr(n, to, m0__net_bind_family(n), &dst);
    if (rc == M0__NET_NEED_LOOKUP)
      return UV_EINVAL; /* host mode: only the peer's name is looked up (at open) */
    if (rc != 0)
      return rc;
  }
  if (len > M0__NET_READ_MAX)
    return UV_EMSGSIZE;
  uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
  int rc = uv_udp_try_send(&l->sock.udp, &buf, 1, (const struct sockaddr *)&dst);
  if (rc == UV_EAGAIN) {
    if (uv_udp_get_send_queue_size(&l->sock.udp) + len > UDP_QUEUE_MAX)
      return UV_ENOBUFS;
    struct udp_send *s = malloc(sizeof *s + len);
    if (s == NULL)
      return UV_ENOMEM;
    s->len = len;
    memcpy(s->data, data, len);
    buf = uv_buf_init((char *)s->data, (unsigned)len);
    rc = uv_udp_send(&s->req, &l->sock.udp, &buf, 1, (const struct sockaddr *)&dst,
                     on_udp_sent);
    if (rc != 0)
      free(s);
  }
  if (rc < 0)
    return rc;
  if (n->tap != NULL)
    n->tap(n->tap_ctx, l->id, true, data, len);
  return 0;
}
