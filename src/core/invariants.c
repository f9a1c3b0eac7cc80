/* invariants.c: what must hold of one struct m0_dev between two inputs, checked.
 *
 * m0__dev_invariant() walks the device and names the first rule it breaks (NULL when all
 * hold). It is pure, compiled into every build, and costs a few hundred comparisons (ten
 * links, eleven drop kinds, at most a 4 KiB queue of HTTP frames walked by their length
 * bytes). Builds that define M0_CHECK_INVARIANTS (ASan and fuzz builds, see meson's
 * `invariants` option) call m0__dev_check() at the end of every input, and a broken rule
 * aborts with its name: the only place the core may stop the process, and only there.
 *
 * The rules fall in five groups: bounds of every buffer; the one armed timer equal to
 * the earliest deadline, computed here from every source and not by dev.c's own code;
 * the link table as the work mode allows it; flow control agreeing with the queues it
 * watches; and progress (bytes queued for the host always have a way out, a partial
 * frame an idle deadline). The flow thresholds below are flow.c's (48 KiB, 16 KiB,
 * 8 KiB, 256 KiB); a change there that is not made here fails loudly, not silently.
 */
#include <string.h>

#include "core.h"

#ifdef M0_CHECK_INVARIANTS
#include <stdio.h>
#include <stdlib.h>
#endif

#define RFC_HELD_MAX 7
#define TCPS_CLIENTS_MAX 8

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static bool is_tcp(const struct m0__link *l) {
  return l->role == M0__LINK_TCPC || l->role == M0__LINK_CLIENT || l->role == M0__LINK_HTTP;
}

static bool booting(const struct m0_dev *dev) { return dev->mode == M0_MODE_BOOTING; }

/* ---- bounds ---- */

static const char *queues(const struct m0_dev *dev) {
  const struct m0__network *n = &dev->net;
  unsigned id;
  if (dev->txq.len > M0_UART_TXQ_SIZE || dev->txq.head >= M0_UART_TXQ_SIZE)
    return "txq.bounds";
  if (n->inbox.len > M0_NET_INBOX_SIZE || n->inbox.head >= M0_NET_INBOX_SIZE)
    return "inbox.bounds";
  if (dev->at.len > M0_LINE_MAX || (dev->at.overflow && dev->at.len != M0_LINE_MAX))
    return "at.line.bounds";
  if (dev->framer.len >= M0_FRAME_MAX) /* a frame is sent the moment it reaches 400 */
    return "framer.bounds";
  if (n->pending_len > M0_NET_PENDING_MAX)
    return "pending.bounds";
  if (n->http_request_len > M0_NET_HTTP_REQUEST_MAX)
    return "http.request.bounds";
  for (id = 0; id < M0_LINKS_MAX; id++) {
    if (n->link[id].rfc.len > RFC_HELD_MAX)
      return "rfc.held.bounds";
  }
  if (dev->escape.held > 3)
    return "escape.held.bounds";
  return NULL;
}

/* HTPC keeps frames as [len high, len low, bytes] records: they must tile the queue. */
static const char *htpc_records(const struct m0_dev *dev) {
  const struct m0__network *n = &dev->net;
  size_t at = 0;
  while (at < n->pending_len) {
    size_t r;
    if (n->pending_len - at < 2)
      return "htpc.queue.records";
    r = ((size_t)dev->bufs.pending[at] << 8 | dev->bufs.pending[at + 1]);
    if (r == 0 || r > M0_FRAME_MAX || r > n->pending_len - at - 2)
      return "htpc.queue.records";
    at += r + 2;
  }
  return NULL;
}

/* ---- modes and per-concern state ---- */

static const char *modes(const struct m0_dev *dev) {
  const struct m0__escape *e = &dev->escape;
  const struct m0__heart *h = &dev->heart;
  const struct m0_config *c = &dev->running;
  unsigned k;
  /* Booting means a boot under way, except while the power is off (nothing under way). */
  if (dev->started && booting(dev) != (dev->boot_until != M0_TIME_NEVER || dev->fault.off))
    return "mode.booting";
  if (dev->fault.off && dev->boot_until != M0_TIME_NEVER)
    return "fault.off-no-boot";
  if (dev->restart.pending != (dev->restart.deadline != M0_TIME_NEVER))
    return "restart.deadline";
  if (dev->restart.pending && dev->mode != M0_MODE_COMMAND)
    return "restart.command-only"; /* AT+Z and AT+RELD are commands */
  if (dev->at.len > 0 && dev->mode != M0_MODE_COMMAND)
    return "at.command-only";
  switch (e->state) {
  case M0__ESC_IDLE:
    if (e->held != 0 || e->deadline != M0_TIME_NEVER)
      return "escape.idle";
    break;
  case M0__ESC_PLUS:
    if (e->held < 1 || e->held > 2 || e->deadline == M0_TIME_NEVER)
      return "escape.plus";
    break;
  case M0__ESC_WAIT_A:
    if (e->held != 3 || e->deadline == M0_TIME_NEVER)
      return "escape.wait-a";
    break;
  default:
    return "escape.state";
  }
  if (e->state != M0__ESC_IDLE && dev->mode != M0_MODE_TRANSPARENT)
    return "escape.transparent-only";
  if (h->running ? h->target == M0__HEART_NONE : h->next != M0_TIME_NEVER)
    return "heart.stopped";
  if (h->target == M0__HEART_UART && h->running != (dev->mode == M0_MODE_TRANSPARENT))
    return "heart.com-transparent";
  for (k = 0; k < M0__DROP_COUNT; k++) {
    if (dev->drops[k].pending && !dev->drops[k].emitted)
      return "drop.pending";
  }
  if (c->baud == 0 || c->data_bits < 5 || c->data_bits > 8 || c->stop_bits < 1 ||
      c->stop_bits > 2 || c->parity > M0_PARITY_SPACE)
    return "uart.running";
  /* Both budgets run at the running UART's rate: every change of it reconfigures them. */
  {
    uint64_t bit_ns = (uint64_t)m0_uart_bits_per_char(c->data_bits, c->stop_bits, c->parity) *
                      M0_NS_PER_S;
    if (dev->tx.baud != c->baud || dev->rx.baud != c->baud || dev->tx.bit_ns != bit_ns ||
        dev->rx.bit_ns != bit_ns)
      return "pace.follows-uart";
  }
  return NULL;
}

/* ---- the one timer ---- */

/* Every deadline of the device, from its own field, each counted only while it means
 * something (a held-byte flush only while bytes are held, a trailing drop event only
 * while one is due). */
/* The faults' own deadlines: a power cycle's end, a hang's, a re-plug; and, unless the
 * firmware hangs, dials into the void timing out and held sends due (not while the
 * network is cut: they go at re-plug). */
static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static const struct m0__fault_mark *mark(const struct m0__faults *f, unsigned k) {
  return &m0__fault_dev(f)->bufs.fault_marks[(f->mhead + k) % M0__FAULT_MARKS];
}

/* Inbox bytes the from_net impairment lets move at now (all when there is none). */
static uint64_t inbox_ready(const struct m0_dev *dev, uint64_t now) {
  const struct m0__faults *f = &dev->fault;
  uint64_t end = f->inbox_in, ready;
  unsigned k;
  for (k = 0; k < f->mlen; k++) {
    if (mark(f, k)->at > now) {
      end = k > 0 ? mark(f, k - 1)->end : f->inbox_out;
      break;
    }
  }
  ready = f->mlen == 0 ? dev->net.inbox.len : end - f->inbox_out;
  if (f->net[M0_NET_FROM_NET].impair.rate != 0)
    ready = min64(ready, m0__pace_avail(&f->net[M0_NET_FROM_NET].pace, now));
  return ready;
}

/* The faults' own deadlines: a power cycle's end, a hang's, a re-plug, the end of a
 * fault's window; and, unless the firmware hangs, dials into the void timing out, held
 * sends due (their instant, or the rate's; not while the cable is out: they go at
 * re-plug), and inbox bytes the impairment held (its first mark, or the rate's). */
static uint64_t fault_deadlines(const struct m0_dev *dev) {
  const struct m0__faults *f = &dev->fault;
  uint64_t when = M0_TIME_NEVER;
  unsigned k;
  if (f->off)
    when = min64(when, f->on_at);
  if (f->unplugged)
    when = min64(when, f->plug_at);
  for (k = 0; k < 2; k++)
    when = min64(min64(when, f->line[k].until), f->net[k].until);
  when = min64(when, f->flash_until);
  if (f->hung)
    return min64(when, f->hang_until);
  for (k = 0; k < M0_LINKS_MAX; k++)
    when = min64(when, f->dial_until[k]);
  if (f->txq.rlen > 0 && !f->unplugged) {
    const struct m0__fault_rec *r = &dev->bufs.fault_rec[f->txq.rhead];
    const struct m0__fault_net *n = &f->net[M0_NET_TO_NET];
    uint64_t due = r->at;
    if (n->impair.rate != 0) {
      bool whole = r->has_to || dev->net.link[r->id].role == M0__LINK_UDP;
      due = max64(due, m0__pace_due(&n->pace, whole ? r->len : min64(r->len, n->pace.burst)));
    }
    when = min64(when, due);
  }
  if (dev->net.inbox.len > 0 && dev->attached && dev->mode == M0_MODE_TRANSPARENT &&
      !dev->restart.pending && dev->txq.len < M0__FLOW_UART_FILL) {
    const struct m0__fault_net *n = &f->net[M0_NET_FROM_NET];
    if (n->impair.rate != 0)
      when = min64(when, max64(f->mlen > 0 ? mark(f, 0)->at : 0, m0__pace_due(&n->pace, 1)));
    else if (f->mlen > 0)
      when = min64(when, mark(f, 0)->at);
  }
  return when;
}

static uint64_t earliest(const struct m0_dev *dev) {
  const struct m0__network *n = &dev->net;
  uint64_t when = fault_deadlines(dev);
  unsigned k;
  /* A hang freezes everything of the firmware's; the line's pace and the drop reports
   * go on (below). */
  when = min64(when, dev->rx_due);
  for (k = 0; k < M0__DROP_COUNT; k++) {
    const struct m0__drop *d = &dev->drops[k];
    if (d->pending)
      when = min64(when, d->last_ns > M0_TIME_NEVER - M0_NS_PER_S ? M0_TIME_NEVER
                                                                  : d->last_ns + M0_NS_PER_S);
  }
  if (dev->fault.hung)
    return when;
  when = min64(when, dev->boot_until);
  when = min64(when, dev->escape.deadline);
  when = min64(when, dev->framer.deadline);
  when = min64(when, dev->tx_due);
  when = min64(when, n->retry_at);
  when = min64(when, n->idle_at);
  when = min64(when, n->rstim_at);
  when = min64(when, n->http_timeout_at);
  when = min64(when, m0__flow_next(dev));
  for (k = 0; k < M0_LINKS_MAX; k++) {
    if (n->link[k].rfc.len > 0)
      when = min64(when, n->link[k].rfc_flush_at);
    if (m0__link_dialling(&n->link[k]) && dev->fault.dial_until[k] == M0_TIME_NEVER)
      when = min64(when, n->link[k].dial_at);
  }
  if (dev->heart.running)
    when = min64(when, dev->heart.next);
  if (dev->restart.pending)
    when = min64(when, dev->restart.deadline);
  for (k = 0; k < M0__DROP_COUNT; k++) {
    const struct m0__drop *d = &dev->drops[k];
    if (d->pending)
      when = min64(when, d->last_ns > M0_TIME_NEVER - M0_NS_PER_S ? M0_TIME_NEVER
                                                                  : d->last_ns + M0_NS_PER_S);
  }
  return when;
}

static const char *timer(const struct m0_dev *dev, uint64_t now) {
  bool real = dev->options.timing == M0_TIMING_REAL;
  const struct m0__framer *f = &dev->framer;
  if (!dev->started)
    return NULL; /* nothing is armed before m0_dev_start() */
  if (dev->armed != earliest(dev))
    return "timer.armed-earliest";
  if (dev->armed != M0_TIME_NEVER && dev->armed <= now)
    return "timer.future"; /* whatever was due at `now` ran before the input returned */
  if (real ? (f->len > 0) != (f->deadline != M0_TIME_NEVER)
           : (f->len > 0 || f->deadline != M0_TIME_NEVER))
    return "framer.deadline"; /* fast timing: one read is one frame, nothing stays */
  if (dev->rx_paced != (dev->rx_due != M0_TIME_NEVER))
    return "rx.due";
  if (dev->tx_due != M0_TIME_NEVER && (!real || dev->txq.len == 0))
    return "tx.due";
  return NULL;
}

/* ---- the UART toward and from the host ---- */

static const char *uart(const struct m0_dev *dev) {
  bool real = dev->options.timing == M0_TIMING_REAL;
  if (dev->stalled && !dev->attached)
    return "uart.stalled-attached";
  if (!dev->attached && (dev->txq.len > 0 || dev->net.inbox.len > 0))
    return "uart.no-host-no-queue"; /* a late reader must not get stale bytes */
  /* Bytes for the host always have a way out: the pty is full and will say when it can
   * take more, or (real timing) the budget's next chunk is armed. */
  if (dev->txq.len > 0 && !dev->stalled && !(real && dev->tx_due != M0_TIME_NEVER) &&
      !dev->fault.hung) /* a hung firmware writes nothing until its watchdog's restart */
    return "uart.tx-progress";
  if (dev->rx_enabled != (!dev->rx_paced && !dev->rx_held && !dev->rx_flash))
    return "uart.rx-enable";
  return NULL;
}

/* ---- flow control ---- */

static const char *flow(const struct m0_dev *dev, uint64_t now) {
  const struct m0__network *n = &dev->net;
  size_t backlog = n->inbox.len + dev->txq.len;
  bool held = false;
  unsigned id;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &n->link[id];
    if (is_tcp(l) && l->queued >= M0__FLOW_NET_HIGH)
      held = true;
    /* A TCP link reads unless the host is behind, it spent its turn (fairness), or the
     * network is cut (a pulled cable, a hang). */
    if (is_tcp(l) ? l->paused != (n->links_paused || l->used >= M0__FLOW_QUANTUM ||
                                  dev->fault.unplugged || dev->fault.hung)
                  : l->paused)
      return "flow.link-paused";
    if (!is_tcp(l) && l->queued != 0)
      return "flow.queued-tcp-only";
  }
  if (n->uart_held != held)
    return "flow.uart-held"; /* reading stops exactly while some TCP peer is 256 KiB behind */
  if (dev->rx_held != n->uart_held)
    return "flow.rx-held";
  if (!n->links_paused && backlog >= M0__FLOW_HOST_HIGH)
    return "flow.pause-high";
  if (n->links_paused && backlog <= M0__FLOW_HOST_LOW)
    return "flow.resume-low";
  /* Network bytes wait in the inbox only while the host cannot take them yet, or an
   * impaired network holds them (fault.c). */
  if (n->inbox.len > 0 && dev->mode == M0_MODE_TRANSPARENT && !dev->restart.pending &&
      dev->txq.len < M0__FLOW_UART_FILL && inbox_ready(dev, now) > 0)
    return "flow.inbox-moves";
  return NULL;
}

/* ---- the link table and the work mode ---- */

static bool blank(const struct m0__link *l) {
  return !l->up && !l->paused && l->queued == 0 && l->rfc.len == 0 && l->tx_bytes == 0 &&
         l->rx_bytes == 0;
}

/* The one role each id may have in this work mode (M0__LINK_FREE: none). */
static enum m0__link_role role_for(const struct m0_dev *dev, unsigned id) {
  switch (dev->running.proto) {
  case M0_PROTO_TCPC:
    return id == 0 ? M0__LINK_TCPC : M0__LINK_FREE;
  case M0_PROTO_TCPS:
    return id == 0 ? M0__LINK_LISTEN
                   : id <= TCPS_CLIENTS_MAX ? M0__LINK_CLIENT : M0__LINK_FREE;
  case M0_PROTO_UDPC:
  case M0_PROTO_UDPS:
    return id == 0 ? M0__LINK_UDP : M0__LINK_FREE;
  default:
    return id == 0 ? M0__LINK_HTTP : M0__LINK_FREE;
  }
}

static const char *links(const struct m0_dev *dev) {
  const struct m0__network *n = &dev->net;
  const struct m0__link *l0 = &n->link[0];
  const struct m0_config *c = &dev->running;
  unsigned id, clients = 0, maxsk;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &n->link[id];
    if (l->role == M0__LINK_FREE) {
      if (!blank(l))
        return "links.free-blank";
      continue;
    }
    if (booting(dev))
      return "links.none-while-booting";
    if (l->role != role_for(dev, id))
      return "links.role-for-mode";
    if (l->role == M0__LINK_CLIENT) {
      clients++;
      if (!l->up)
        return "links.client-up";
    }
  }
  maxsk = c->maxsk >= 1 && c->maxsk <= TCPS_CLIENTS_MAX ? c->maxsk : TCPS_CLIENTS_MAX;
  if (clients > maxsk)
    return "tcps.maxsk";
  if (booting(dev) && (n->retry_at != M0_TIME_NEVER || n->idle_at != M0_TIME_NEVER ||
                       n->rstim_at != M0_TIME_NEVER || n->http_timeout_at != M0_TIME_NEVER ||
                       dev->heart.running))
    return "net.deadlines-while-booting";

  /* TCPC: the state names the link's. */
  if (c->proto == M0_PROTO_TCPC) {
    bool has = l0->role == M0__LINK_TCPC;
    switch (n->tcpc) {
    case M0__TCPC_IDLE:
      if (has || (!booting(dev) && dev->started && !c->socksl))
        return "tcpc.idle";
      break;
    case M0__TCPC_CONNECTING:
      if (!has || l0->up)
        return "tcpc.connecting";
      break;
    case M0__TCPC_CONNECTED:
      if (!has || !l0->up)
        return "tcpc.connected";
      if (n->pending_len > 0)
        return "tcpc.connected-nothing-kept";
      break;
    case M0__TCPC_WAITING:
      if (has || n->retry_at == M0_TIME_NEVER)
        return "tcpc.waiting";
      break;
    default:
      return "tcpc.state";
    }
  } else if (n->tcpc != M0__TCPC_IDLE) {
    return "tcpc.other-mode";
  }
  if (n->idle_at != M0_TIME_NEVER && !(c->proto == M0_PROTO_TCPC && c->socksl))
    return "tcpc.idle-deadline";

  /* HTPC: one request at a time on link 0, with its silence deadline. */
  if (c->proto == M0_PROTO_HTPC) {
    if (n->http_busy != (l0->role == M0__LINK_HTTP))
      return "htpc.busy-link";
    if (n->http_busy != (n->http_timeout_at != M0_TIME_NEVER))
      return "htpc.busy-timeout";
    if (!n->http_busy && n->pending_len > 0)
      return "htpc.queue-moves";
    if (htpc_records(dev) != NULL)
      return htpc_records(dev);
  } else {
    if (n->http_busy || n->http_timeout_at != M0_TIME_NEVER)
      return "htpc.other-mode";
    if (c->proto != M0_PROTO_TCPC && n->pending_len > 0)
      return "pending.tcpc-htpc-only";
  }

  /* A listener or socket that is missing is being retried. */
  if (!booting(dev) && dev->started && l0->role == M0__LINK_FREE &&
      (c->proto == M0_PROTO_TCPS || c->proto == M0_PROTO_UDPC || c->proto == M0_PROTO_UDPS) &&
      n->retry_at == M0_TIME_NEVER)
    return "net.retry";

  /* The NET heartbeat runs exactly while the server link is up. */
  if (dev->heart.target == M0__HEART_NET) {
    bool link_up = c->proto == M0_PROTO_TCPC ? n->tcpc == M0__TCPC_CONNECTED
                                             : l0->role == M0__LINK_UDP && l0->up;
    if (dev->heart.running != link_up)
      return "heart.net-follows-link";
  }
  return NULL;
}

/* ---- faults ---- */

static const char *faults(const struct m0_dev *dev) {
  const struct m0__faults *f = &dev->fault;
  unsigned id;
  if (f->orphans != 0 && !f->off)
    return "fault.orphans-while-off"; /* power on resets them before the boot */
  for (id = 0; id < M0_LINKS_MAX; id++) {
    if ((f->orphans & (1u << id)) && dev->net.link[id].role != M0__LINK_FREE)
      return "fault.orphans-forgotten"; /* the device knows nothing of them */
  }
  if (!f->off && f->on_at != M0_TIME_NEVER)
    return "fault.on-at";
  if (!f->unplugged && f->plug_at != M0_TIME_NEVER)
    return "fault.plug-at";
  if (f->hung != (f->hang_until != M0_TIME_NEVER) || (f->hung && f->off))
    return "fault.hang-until";
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &dev->net.link[id];
    if (f->dial_until[id] != M0_TIME_NEVER &&
        (!(f->unplugged || f->hung) || l->up ||
         (l->role != M0__LINK_TCPC && l->role != M0__LINK_HTTP)))
      return "fault.dial-void"; /* only a dial into a pulled cable waits here */
  }
  {
    const struct m0__fault_txq *q = &f->txq;
    size_t sum = 0;
    unsigned k;
    if (q->start > q->end || q->end > sizeof dev->bufs.fault_held || q->rlen > M0__FAULT_RECORDS ||
        q->rhead >= M0__FAULT_RECORDS)
      return "fault.held.bounds";
    for (k = 0; k < q->rlen; k++)
      sum += dev->bufs.fault_rec[(q->rhead + k) % M0__FAULT_RECORDS].len;
    if (sum != q->end - q->start)
      return "fault.held.records"; /* the records tile the held bytes */
  }
  {
    uint64_t last = f->inbox_out;
    unsigned k;
    if (f->inbox_in - f->inbox_out != dev->net.inbox.len)
      return "fault.inbox-count"; /* the marks count the inbox's bytes */
    if (f->mlen > M0__FAULT_MARKS)
      return "fault.marks.bounds";
    for (k = 0; k < f->mlen; k++) {
      if (mark(f, k)->end <= last || mark(f, k)->end > f->inbox_in)
        return "fault.marks.order"; /* each mark ends after the one before, within */
      last = mark(f, k)->end;
    }
  }
  return NULL;
}

const char *m0__dev_invariant(const struct m0_dev *dev, uint64_t now) {
  const char *broken;
  if ((broken = queues(dev)) != NULL)
    return broken;
  if ((broken = modes(dev)) != NULL)
    return broken;
  if ((broken = timer(dev, now)) != NULL)
    return broken;
  if ((broken = uart(dev)) != NULL)
    return broken;
  if ((broken = flow(dev, now)) != NULL)
    return broken;
  if ((broken = links(dev)) != NULL)
    return broken;
  return faults(dev);
}

#ifdef M0_CHECK_INVARIANTS
void m0__dev_check(const struct m0_dev *dev, uint64_t now) {
  const char *broken = m0__dev_invariant(dev, now);
  if (broken != NULL) {
    fprintf(stderr, "m0emu: core invariant broken: %s (at %llu ns)\n", broken,
            (unsigned long long)now);
    abort();
  }
}
#endif
