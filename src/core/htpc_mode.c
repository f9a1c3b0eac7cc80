/* htpc_mode.c: the HTTP client work mode (spec §6.5) on the links: one request per
 * serial frame, each on a new TCP connection; the bytes are htpc.c's.
 *
 * Requests go one at a time on link 0, in frame order, so responses reach the host whole
 * and in the order the frames were sent: a frame that arrives while a request is under
 * way waits in a 4 KiB queue of frames (the oldest whole frames dropped and counted
 * beyond it). The connection is dialled from any local port (SOCKPORT would collide with
 * the previous request's TIME_WAIT), with keepalive. The response ends where htpc.c says
 * (Content-Length, last chunk, or the server's close) and the device then closes the
 * connection and starts the next request. A dial that fails loses that frame (counted,
 * `not-connected`); no retry, since an HTTP request is not a stream to resume.
 *
 * A peer must not stall the device (issue 4): 10 s without a byte from it, counted from
 * the dial and again from every byte it sends, and the request is given up (the
 * connection closed, the next frame goes on). Idle rather than total time, so a slow but
 * live response is not cut; 10 s is the connect timeout too (net.c, checked first at the
 * same instant), so a dial that hangs and a server that says nothing end the same way. Events: `http.request` when a request
 * is sent (its bytes), `http.response` when its response is complete, `http.error` when
 * it is not (timeout, refused, reset, truncated, or garbage with llhttp's reason and
 * code).
 */
#include <string.h>

#include "core.h"
#include "htpc.h"

#define HTTP_ID 0
#define RESPONSE_TIMEOUT_NS (10 * M0_NS_PER_S)

_Static_assert(sizeof(struct m0__htpc_resp) <= M0_NET_HTTP_PARSER_MAX,
               "the response parser must fit its room in struct m0__network");
_Static_assert(M0__HTPC_REQUEST_MAX <= M0_NET_HTTP_REQUEST_MAX,
               "a request must fit its buffer in struct m0__network");

static struct m0__htpc_resp *parser(struct m0_dev *dev) {
  return (struct m0__htpc_resp *)(void *)dev->net.http_parser.bytes;
}

/* ---- the queue of frames: [len high, len low, bytes] records ---- */

static size_t record(const struct m0_dev *dev, size_t at) {
  const uint8_t *q = dev->bufs.pending;
  return ((size_t)q[at] << 8 | q[at + 1]) + 2;
}

size_t m0__htpc_mode_queued(const struct m0_dev *dev) {
  const struct m0__network *n = &dev->net;
  size_t at = 0, bytes = 0;
  while (at < n->pending_len) {
    bytes += record(dev, at) - 2;
    at += record(dev, at);
  }
  return bytes;
}

static void queue_drop_oldest(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  size_t r = record(dev, 0);
  memmove(dev->bufs.pending, dev->bufs.pending + r, n->pending_len - r);
  n->pending_len -= r;
  dev->counters.net_tx_dropped += r - 2;
  m0__dev_drop(dev, now, M0__DROP_TO_NET_BUFFER_FULL, r - 2);
}

static void queue_push(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  struct m0__network *n = &dev->net;
  while (n->pending_len + len + 2 > M0_NET_PENDING_MAX)
    queue_drop_oldest(dev, now);
  dev->bufs.pending[n->pending_len] = (uint8_t)(len >> 8);
  dev->bufs.pending[n->pending_len + 1] = (uint8_t)len;
  memcpy(dev->bufs.pending + n->pending_len + 2, data, len);
  n->pending_len += len + 2;
}

/* ---- one request ---- */

/* `http.error`. reason: llhttp's text or one of ours (timeout, refused, reset); code:
 * llhttp's error name, or "" when there is none. Both are JSON-safe: llhttp's reasons
 * are plain static English. */
static void error_event(struct m0_dev *dev, const char *reason, const char *code) {
  m0__dev_event(dev, "http.error", "\"link\":%u,\"reason\":\"%s\",\"code\":\"%s\"", HTTP_ID,
                reason, code);
}

static void start_next(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  struct m0_link_open req;
  size_t r;
  int len;
  while (!n->http_busy && n->pending_len > 0) {
    r = record(dev, 0);
    len = m0__htpc_request(&dev->running, dev->bufs.pending + 2, r - 2,
                           dev->bufs.http_request, sizeof dev->bufs.http_request);
    n->http_frame_len = r - 2;
    memmove(dev->bufs.pending, dev->bufs.pending + r, n->pending_len - r);
    n->pending_len -= r;
    if (len < 0) { /* cannot happen with a valid configuration (htpc.h) */
      dev->counters.net_tx_dropped += n->http_frame_len;
      m0__dev_drop(dev, now, M0__DROP_TO_NET_SEND_ERROR, n->http_frame_len);
      continue;
    }
    n->http_request_len = (size_t)len;
    memset(&req, 0, sizeof req);
    req.kind = M0_LINK_TCP_CONNECT;
    m0__link_sock_addr(dev, &req.peer);
    req.keepalive = true;
    n->http_busy = true;
    if (m0__link_dial(dev, now, HTTP_ID, M0__LINK_HTTP, &req) != 0) {
      n->http_busy = false;
      error_event(dev, "refused", "");
      dev->counters.net_tx_dropped += n->http_frame_len;
      m0__dev_drop(dev, now, M0__DROP_TO_NET_NOT_CONNECTED, n->http_frame_len);
      continue;
    }
    n->http_timeout_at = now + RESPONSE_TIMEOUT_NS;
  }
}

/* The request is over: close (unless the board did), go on with the next frame. */
static void done(struct m0_dev *dev, uint64_t now, bool close) {
  dev->net.http_timeout_at = M0_TIME_NEVER;
  if (close)
    m0__link_close(dev, now, HTTP_ID);
  dev->net.http_busy = false;
  start_next(dev, now);
}

/* The response is over (or broken): report, close, go on with the next frame. */
static void finish(struct m0_dev *dev, uint64_t now, int result, bool close) {
  struct m0__htpc_resp *r = parser(dev);
  if (result == M0__HTPC_DONE)
    m0__dev_event(dev, "http.response", "\"link\":%u,\"status\":%d,\"bytes\":%llu",
                  HTTP_ID, m0__htpc_resp_status(r), (unsigned long long)r->rx_bytes);
  else
    error_event(dev, r->reason != NULL ? r->reason : "", r->code != NULL ? r->code : "");
  done(dev, now, close);
}

struct deliver_ctx {
  struct m0_dev *dev;
  uint64_t now;
};

static void deliver(void *arg, const uint8_t *data, size_t len) {
  struct deliver_ctx *c = arg;
  m0__link_to_host(c->dev, c->now, HTTP_ID, data, len);
}

void m0__htpc_mode_frame(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  queue_push(dev, now, data, len);
  start_next(dev, now);
}

void m0__htpc_mode_up(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  m0__htpc_resp_init(parser(dev), dev->running.htpchd);
  if (m0__link_send(dev, now, HTTP_ID, dev->bufs.http_request, n->http_request_len, NULL) >= 0)
    m0__dev_event(dev, "http.request", "\"link\":%u,\"method\":\"%s\",\"bytes\":%zu", HTTP_ID,
                  dev->running.htptp == M0_HTPTP_POST ? "POST" : "GET", n->http_request_len);
}

void m0__htpc_mode_rx(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  struct deliver_ctx c = {dev, now};
  int result;
  m0__link_heard(dev, now);
  dev->net.http_timeout_at = now + RESPONSE_TIMEOUT_NS; /* the peer is alive */
  result = m0__htpc_resp_feed(parser(dev), data, len, NULL, deliver, &c);
  if (result != M0__HTPC_MORE)
    finish(dev, now, result, true);
}

void m0__htpc_mode_down(struct m0_dev *dev, uint64_t now, bool was_up, int reason) {
  if (!was_up) {
    struct m0__network *n = &dev->net;
    error_event(dev, reason == M0_DOWN_TIMEOUT ? "timeout" : "refused", "");
    dev->counters.net_tx_dropped += n->http_frame_len;
    m0__dev_drop(dev, now, M0__DROP_TO_NET_NOT_CONNECTED, n->http_frame_len);
    done(dev, now, false);
    return;
  }
  if (reason == M0_DOWN_RESET) {
    /* What arrived was delivered; a reset is no way to end a response. */
    error_event(dev, "reset", "");
    done(dev, now, false);
    return;
  }
  /* The server closed: the end of a response that had no length, or a truncated one. */
  finish(dev, now, m0__htpc_resp_eof(parser(dev)), false);
}

void m0__htpc_mode_timeout(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  if (!n->http_busy)
    return;
  error_event(dev, "timeout", "");
  if (!n->link[HTTP_ID].up) {
    /* Still dialling: the frame never left. */
    dev->counters.net_tx_dropped += n->http_frame_len;
    m0__dev_drop(dev, now, M0__DROP_TO_NET_NOT_CONNECTED, n->http_frame_len);
  }
  done(dev, now, true);
}
