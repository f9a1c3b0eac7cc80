/* fault_net.c: what the faults do to the traffic at the network seams: sends held in
 * order (a pulled cable, a hang, delay, jitter and rate toward the network) or lost
 * (datagrams on a dead wire, loss), datagrams lost on arrival, and the inbox's marks
 * that hold bytes from the network back toward the host (delay, jitter, rate from it).
 * fault.c takes the requests and their windows; this file only applies what is set.
 *
 * Held sends wait, in order, in one 16 KiB queue (the module's TCP send buffer and UART
 * buffer together; more is lost and counted, as on a module without flow control) of at
 * most 64 records (M0__FAULT_RECORDS): a send that continues the same TCP stream at the same
 * instant (or any send while the network is cut) joins the last record, so a long pull
 * does not spend a record per frame. Each record goes at its instant, the to_net rate
 * permitting (a TCP record in part, a datagram only whole), never while the network is
 * cut, and is lost if its link went away meanwhile. Toward the host the bytes wait in
 * flow.c's inbox; a mark per arrival instant (64 of them, M0__FAULT_MARKS, the last one
 * taking the rest when full: later, never earlier) says up to where they may move on.
 */
#include <string.h>

#include "core.h"

static uint64_t add_sat(uint64_t a, uint64_t b) {
  return a > M0_TIME_NEVER - b ? M0_TIME_NEVER : a + b;
}

/* ---- held sends ---- */

static struct m0__fault_rec *head_rec(struct m0__faults *f) {
  return &m0__fault_dev(f)->bufs.fault_rec[f->txq.rhead];
}

static struct m0__fault_rec *tail_rec(struct m0__faults *f) {
  return &m0__fault_dev(f)->bufs.fault_rec[(f->txq.rhead + f->txq.rlen - 1) % M0__FAULT_RECORDS];
}

static void drop_to_net(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind, size_t n) {
  dev->counters.net_tx_dropped += n;
  m0__dev_drop(dev, now, kind, n);
}

/* Hold a send until `at`: appended to the last record when it continues the same TCP
 * stream at the same instant (or at any instant while the network is cut: it all goes at
 * re-plug, and a long pull must not spend a record per frame), else a record of its own.
 * false: no room (nothing kept). */
static bool hold(struct m0_dev *dev, unsigned id, const uint8_t *data, size_t len,
                 const struct m0_net_addr *to, uint64_t at) {
  struct m0__fault_txq *q = &dev->fault.txq;
  uint8_t *buf = dev->bufs.fault_held;
  bool udp = dev->net.link[id].role == M0__LINK_UDP;
  if (q->end - q->start + len > sizeof dev->bufs.fault_held)
    return false;
  if (q->end + len > sizeof dev->bufs.fault_held) { /* room only at the front: move the rest there */
    memmove(buf, buf + q->start, q->end - q->start);
    q->end -= q->start;
    q->start = 0;
  }
  if (q->rlen > 0) {
    struct m0__fault_rec *t = tail_rec(&dev->fault);
    if (!udp && t->id == id && !t->has_to && t->gen == dev->net.gen[id] &&
        (t->at == at || m0__fault_net_cut(dev)) &&
        (uint64_t)t->len + len <= UINT32_MAX) {
      memcpy(buf + q->end, data, len);
      q->end += len;
      t->len += (uint32_t)len;
      return true;
    }
  }
  if (q->rlen == M0__FAULT_RECORDS)
    return false;
  struct m0__fault_rec *r = &dev->bufs.fault_rec[(q->rhead + q->rlen) % M0__FAULT_RECORDS];
  memset(r, 0, sizeof *r);
  r->at = at;
  r->len = (uint32_t)len;
  r->gen = dev->net.gen[id];
  r->id = (uint8_t)id;
  r->has_to = to != NULL;
  if (to != NULL)
    r->to = *to;
  memcpy(buf + q->end, data, len);
  q->end += len;
  q->rlen++;
  return true;
}

static void pop(struct m0_dev *dev) {
  struct m0__fault_txq *q = &dev->fault.txq;
  q->start += dev->bufs.fault_rec[q->rhead].len;
  q->rhead = (q->rhead + 1) % M0__FAULT_RECORDS;
  q->rlen--;
  if (q->rlen == 0)
    q->start = q->end = q->rhead = 0;
}

/* How much of the head record may go at `now` under the to_net rate (all of it when
 * there is none; a datagram only whole). */
static size_t rate_allows(struct m0_dev *dev, uint64_t now, const struct m0__fault_rec *r) {
  struct m0__fault_net *n = &dev->fault.net[M0_NET_TO_NET];
  uint64_t avail;
  if (n->impair.rate == 0)
    return r->len;
  avail = m0__pace_avail(&n->pace, now);
  if (avail >= r->len)
    return r->len;
  return r->has_to || dev->net.link[r->id].role == M0__LINK_UDP ? 0 : (size_t)avail;
}

/* When the head record may go: its instant, or later when the rate holds it back. */
uint64_t m0__fault_release_due(const struct m0_dev *dev) {
  const struct m0__faults *f = &dev->fault;
  const struct m0__fault_rec *r = &dev->bufs.fault_rec[f->txq.rhead];
  const struct m0__fault_net *n = &f->net[M0_NET_TO_NET];
  uint64_t due;
  if (n->impair.rate == 0)
    return r->at;
  due = m0__pace_due(&n->pace, r->has_to || dev->net.link[r->id].role == M0__LINK_UDP
                                   ? r->len
                                   : (r->len < n->pace.burst ? r->len : n->pace.burst));
  return due > r->at ? due : r->at;
}

/* Send what is due, in order, while the network moves. */
void m0__fault_release(struct m0_dev *dev, uint64_t now) {
  struct m0__faults *f = &dev->fault;
  struct m0__fault_txq *q = &f->txq;
  while (q->rlen > 0 && !m0__fault_net_cut(dev)) {
    struct m0__fault_rec *h = head_rec(f);
    struct m0__fault_rec r = *h;
    const uint8_t *data = dev->bufs.fault_held + q->start;
    const struct m0__link *l = &dev->net.link[r.id];
    size_t n;
    if (r.at > now)
      return;
    if (l->role == M0__LINK_FREE || !l->up || dev->net.gen[r.id] != r.gen) {
      pop(dev);
      drop_to_net(dev, now, M0__DROP_TO_NET_NOT_CONNECTED, r.len); /* its link is gone */
      continue;
    }
    n = rate_allows(dev, now, &r);
    if (n == 0)
      return;
    if (f->net[M0_NET_TO_NET].impair.rate != 0)
      m0__pace_take(&f->net[M0_NET_TO_NET].pace, n);
    if (n < r.len) { /* part of a TCP record: the rest stays at the head */
      q->start += n;
      h->len -= (uint32_t)n;
    } else {
      pop(dev); /* before the send: it may call back into the faults (not to queue) */
    }
    m0__link_send_now(dev, now, r.id, data, n, r.has_to ? &r.to : NULL);
  }
}

bool m0__fault_impaired(const struct m0__fault_net *n) {
  const struct m0_net_impair *i = &n->impair;
  return i->delay_ns != 0 || i->jitter_ns != 0 || i->loss_ppb != 0 || i->rate != 0;
}

/* When something impaired in direction n, arriving or sent now, may go on: delay plus or
 * minus jitter, never before now nor before what went before it (order is kept). */
static uint64_t impaired_at(struct m0__faults *f, struct m0__fault_net *n, uint64_t now,
                            uint64_t after) {
  uint64_t at = add_sat(now, n->impair.delay_ns);
  if (n->impair.jitter_ns != 0) {
    uint64_t j = m0__fault_uniform(f, 2 * n->impair.jitter_ns);
    at = j >= n->impair.jitter_ns ? add_sat(at, j - n->impair.jitter_ns)
                                  : (at > n->impair.jitter_ns - j ? at - (n->impair.jitter_ns - j) : 0);
  }
  if (at < now)
    at = now;
  return at < after ? after : at;
}

bool m0__fault_tx(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                  size_t len, const struct m0_net_addr *to) {
  struct m0__faults *f = &dev->fault;
  struct m0__fault_net *n = &f->net[M0_NET_TO_NET];
  bool udp = dev->net.link[id].role == M0__LINK_UDP;
  uint64_t at = now;
  if (udp && m0__fault_net_cut(dev)) { /* a datagram on a dead wire */
    drop_to_net(dev, now, f->hung ? M0__DROP_TO_NET_HANG : M0__DROP_TO_NET_CABLE, len);
    return true;
  }
  if (!m0__fault_net_cut(dev) && f->txq.rlen == 0 && !m0__fault_impaired(n))
    return false; /* nothing held before it, nothing in the way: it goes now */
  if (udp && m0__fault_chance(f, n->impair.loss_ppb)) {
    n->lost++;
    drop_to_net(dev, now, M0__DROP_TO_NET_LOSS, len);
    return true;
  }
  if (m0__fault_impaired(n)) {
    if (f->txq.rlen == 0 && n->impair.rate != 0)
      m0__pace_cap(&n->pace, now); /* an idle line: no burst from before */
    at = impaired_at(f, n, now, f->txq.rlen > 0 ? tail_rec(f)->at : 0);
  }
  if (!hold(dev, id, data, len, to, at))
    drop_to_net(dev, now, M0__DROP_TO_NET_BUFFER_FULL, len);
  return true;
}

bool m0__fault_rx_lost(struct m0_dev *dev, uint64_t now, size_t len) {
  struct m0__faults *f = &dev->fault;
  struct m0__fault_net *n = &f->net[M0_NET_FROM_NET];
  enum m0__drop_kind kind;
  if (m0__fault_net_cut(dev)) {
    kind = f->hung ? M0__DROP_FROM_NET_HANG : M0__DROP_FROM_NET_CABLE;
  } else if (m0__fault_chance(f, n->impair.loss_ppb)) {
    n->lost++;
    kind = M0__DROP_FROM_NET_LOSS;
  } else {
    return false;
  }
  dev->counters.net_rx_dropped += len;
  m0__dev_drop(dev, now, kind, len);
  return true;
}

/* ---- from_net: the inbox's marks ---- */

static const struct m0__fault_mark *mark_at(const struct m0__faults *f, unsigned k) {
  return &m0__fault_dev(f)->bufs.fault_marks[(f->mhead + k) % M0__FAULT_MARKS];
}

void m0__fault_inbox_in(struct m0_dev *dev, uint64_t now, size_t n) {
  struct m0__faults *f = &dev->fault;
  struct m0__fault_net *imp = &f->net[M0_NET_FROM_NET];
  uint64_t at, last = f->mlen > 0 ? mark_at(f, f->mlen - 1)->at : 0;
  if (n == 0)
    return;
  if (f->inbox_in == f->inbox_out && imp->impair.rate != 0)
    m0__pace_cap(&imp->pace, now); /* the inbox was empty: no burst from before */
  f->inbox_in += n;
  if (imp->impair.delay_ns == 0 && imp->impair.jitter_ns == 0) {
    if (f->mlen > 0) /* after delayed bytes, in order: as late as the last of them */
      dev->bufs.fault_marks[(f->mhead + f->mlen - 1) % M0__FAULT_MARKS].end = f->inbox_in;
    return;
  }
  at = impaired_at(f, imp, now, last);
  if (f->mlen > 0 && (mark_at(f, f->mlen - 1)->at == at || f->mlen == M0__FAULT_MARKS)) {
    struct m0__fault_mark *m = &dev->bufs.fault_marks[(f->mhead + f->mlen - 1) % M0__FAULT_MARKS];
    m->end = f->inbox_in; /* full: these wait with the last (later, never earlier) */
    if (m->at < at)
      m->at = at;
    return;
  }
  struct m0__fault_mark *m = &dev->bufs.fault_marks[(f->mhead + f->mlen) % M0__FAULT_MARKS];
  m->end = f->inbox_in;
  m->at = at;
  f->mlen++;
}

/* The cumulative count up to which the marks let bytes move at now. */
static uint64_t marks_end(const struct m0__faults *f, uint64_t now) {
  unsigned k;
  for (k = 0; k < f->mlen; k++)
    if (mark_at(f, k)->at > now)
      return k > 0 ? mark_at(f, k - 1)->end : f->inbox_out;
  return f->inbox_in;
}

size_t m0__fault_inbox_ready(const struct m0_dev *dev, uint64_t now) {
  const struct m0__faults *f = &dev->fault;
  const struct m0__fault_net *imp = &f->net[M0_NET_FROM_NET];
  uint64_t end = marks_end(f, now);
  uint64_t ready = f->mlen == 0 ? dev->net.inbox.len : end > f->inbox_out ? end - f->inbox_out : 0;
  if (imp->impair.rate != 0) {
    uint64_t avail = m0__pace_avail(&imp->pace, now);
    if (ready > avail)
      ready = avail;
  }
  return ready > dev->net.inbox.len ? dev->net.inbox.len : (size_t)ready;
}

void m0__fault_inbox_out(struct m0_dev *dev, size_t n) {
  struct m0__faults *f = &dev->fault;
  f->inbox_out += n;
  if (f->net[M0_NET_FROM_NET].impair.rate != 0)
    m0__pace_take(&f->net[M0_NET_FROM_NET].pace, n);
  while (f->mlen > 0 && mark_at(f, 0)->end <= f->inbox_out) {
    f->mhead = (f->mhead + 1) % M0__FAULT_MARKS;
    f->mlen--;
  }
}

void m0__fault_inbox_dropped(struct m0_dev *dev) {
  struct m0__faults *f = &dev->fault;
  f->inbox_out = f->inbox_in;
  f->mhead = f->mlen = 0;
}

/* When bytes in the inbox that wait only for the impairment may move: the first mark's
 * instant, or the rate's next byte if later. M0_TIME_NEVER when nothing waits for that,
 * or something else holds them (command mode, a full UART queue, no host: flow.c moves
 * them when that ends). Right after an input everything due has moved, so what is left
 * waits for exactly this. */
uint64_t m0__fault_inbox_due(const struct m0_dev *dev) {
  const struct m0__faults *f = &dev->fault;
  const struct m0__fault_net *imp = &f->net[M0_NET_FROM_NET];
  uint64_t when;
  if (dev->net.inbox.len == 0 || !dev->attached || dev->mode != M0_MODE_TRANSPARENT ||
      dev->restart.pending || dev->txq.len >= M0__FLOW_UART_FILL)
    return M0_TIME_NEVER;
  when = f->mlen > 0 ? mark_at(f, 0)->at : 0;
  if (imp->impair.rate != 0) {
    uint64_t r = m0__pace_due(&imp->pace, 1);
    if (r > when)
      when = r;
  } else if (f->mlen == 0) {
    return M0_TIME_NEVER;
  }
  return when;
}

void m0__fault_net_restart(struct m0_dev *dev, uint64_t now) {
  struct m0__fault_txq *q = &dev->fault.txq;
  size_t n = q->end - q->start;
  q->start = q->end = q->rhead = q->rlen = 0;
  if (n > 0)
    drop_to_net(dev, now, M0__DROP_TO_NET_RESTART, n);
}

