/* flow.c: back-pressure both ways between the UART and the network, so that a slow side
 * slows the other down instead of losing bytes (TCP never loses any while a host listens),
 * and the TCP server's clients served in turn.
 *
 * Toward the host: network bytes wait in a 128 KiB inbox and move on into the UART queue
 * 8 KiB at a time (a UART's FIFO: a reply typed in command mode never waits behind more
 * than that). In command mode and during a restart they stay in the inbox (spec §3.1) and
 * follow after AT+ENTM. When inbox + UART queue reach 48 KiB every TCP link is paused
 * (the board stops reading, the peer's window fills), and below 16 KiB reading resumes.
 * The board may still deliver the read it was in (M0_LINK_RX_MAX, 64 KiB): 48 + 64 fits
 * in 128, so nothing is dropped. A link dialled while paused is paused at once; a client
 * accepted while paused only at its first read (the board does not know its id until the
 * accept returns): the one case where an overflow is possible, and then it is counted,
 * not silent. Datagrams are not slowed but
 * dropped whole when they do not fit the 64 KiB of the UART queue (spec §6.4).
 *
 * Turns (deficit round robin): resuming every link at 16 KiB lets whichever the board
 * reads first refill the backlog with one 64 KiB read, and a board that always reads in
 * the same order starves the others. So each TCP link has a quantum of 64 KiB per round
 * (one full read); what it delivers is charged against it, and a link that spent it is
 * paused on its own while the others take theirs. A read past the quantum is debt,
 * taken off the next rounds, so long-run shares stay equal: between two links that always
 * have data, deliveries differ by at most one quantum plus one read (128 KiB) at a round's
 * end. A round ends, and every link gets a quantum back (capped at one: an idle link
 * hoards nothing), when every sending link has spent its own. A link alone is therefore
 * never paused but by the 48 KiB mark. The core cannot see whether a link has data, only
 * what it delivers, so a link that had its chance and sent nothing is marked quiet and no
 * longer waited for: that is decided when the host has taken everything (waiting cost
 * nothing until then) and 2 ms passed without a delivery since the wait began or reading
 * resumed (the board had a loop turn to read it). A quiet link is read whenever the
 * others leave room and counts as sending again at its first byte; every 100 ms at most
 * a round also waits for the quiet links, so one that the board always reads last still
 * gets its turn. Only pauses are added: every link reading is one the 48/16 KiB rule lets
 * read, so the argument above still holds.
 *
 * Toward the network: link_send returns how much the board still has queued for that
 * link. At 256 KiB on any TCP link the core stops reading the UART (the pty then
 * back-pressures the host like a real line); when every link is below that again (the
 * board reports a drain, or the link closes) reading resumes. This hold and the receive
 * pacing are combined in pace.c, so neither undoes the other.
 */
#include <string.h>

#include "core.h"

#define HOST_HIGH M0__FLOW_HOST_HIGH
#define HOST_LOW M0__FLOW_HOST_LOW
#define UART_FILL M0__FLOW_UART_FILL
#define NET_HIGH M0__FLOW_NET_HIGH
#define QUANTUM M0__FLOW_QUANTUM
#define QUIET_WAIT_NS (2 * M0_NS_PER_MS)
#define PROBE_EVERY_NS (100 * M0_NS_PER_MS)

_Static_assert(HOST_HIGH + M0_LINK_RX_MAX <= M0_NET_INBOX_SIZE,
               "one more board read after the pause must fit the inbox");

static bool is_tcp(const struct m0__link *l) {
  return l->role == M0__LINK_TCPC || l->role == M0__LINK_CLIENT || l->role == M0__LINK_HTTP;
}

size_t m0__flow_backlog(const struct m0_dev *dev) {
  return dev->net.inbox.len + dev->txq.len;
}

static void inbox_push(struct m0_dev *dev, const uint8_t *data, size_t n) {
  struct m0__inbox *q = &dev->net.inbox;
  size_t tail, first;
  if (n == 0)
    return; /* data may be NULL (no prefix) */
  tail = (q->head + q->len) % M0_NET_INBOX_SIZE;
  first = n < M0_NET_INBOX_SIZE - tail ? n : M0_NET_INBOX_SIZE - tail;
  memcpy(dev->bufs.inbox + tail, data, first);
  memcpy(dev->bufs.inbox, data + first, n - first);
  q->len += n;
}

static void inbox_drop(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind) {
  struct m0__inbox *q = &dev->net.inbox;
  size_t n = q->len;
  q->head = q->len = 0;
  m0__fault_inbox_dropped(dev);
  if (n > 0) {
    dev->counters.uart_tx_dropped += n;
    m0__dev_drop(dev, now, kind, n);
  }
}

static bool spent(const struct m0__link *l) { return l->used >= QUANTUM; }

/* What the board should do: read a link unless the host is behind, its turn is spent,
 * or nothing moves on the network (a pulled cable, a hang: fault.c). */
static void apply_pauses(struct m0_dev *dev) {
  unsigned id;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    struct m0__link *l = &dev->net.link[id];
    bool want = dev->net.links_paused || spent(l) || m0__fault_net_cut(dev);
    if (is_tcp(l) && l->paused != want) {
      l->paused = want;
      dev->hal->link_pause(dev->ctx, id, want);
    }
  }
}

/* A new round: a quantum for every link, as many rounds at once as it takes for a
 * sending link to have credit again (all may be in debt after long reads). */
static void new_round(struct m0_dev *dev) {
  uint64_t rounds = UINT64_MAX, take;
  unsigned id;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &dev->net.link[id];
    if (is_tcp(l) && !l->quiet && spent(l) && (l->used - QUANTUM) / QUANTUM + 1 < rounds)
      rounds = (l->used - QUANTUM) / QUANTUM + 1;
  }
  take = rounds == UINT64_MAX ? QUANTUM : rounds * QUANTUM;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    struct m0__link *l = &dev->net.link[id];
    if (is_tcp(l))
      l->used = l->used > take ? l->used - take : 0;
  }
  dev->net.fair_waiting = false;
  dev->net.fair_probing = false;
}

/* Whether the round waits for links that have credit left, and for how long. */
static void take_turns(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  bool any_spent = false, pending = false, quiet = false;
  unsigned id;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &n->link[id];
    if (!is_tcp(l))
      continue;
    if (l->quiet)
      quiet = true;
    else if (spent(l))
      any_spent = true;
    else
      pending = true;
  }
  if (!any_spent) {
    n->fair_waiting = false;
    n->fair_probing = false;
    return;
  }
  if (!n->fair_waiting) {
    n->fair_waiting = true;
    n->fair_mark = now;
    n->fair_probing = quiet && now - n->fair_probe_at >= PROBE_EVERY_NS;
    if (n->fair_probing)
      n->fair_probe_at = now;
  }
  if (!pending && !(n->fair_probing && quiet)) {
    new_round(dev);
    return;
  }
  if (m0__flow_next(dev) <= now) {
    /* The host took everything and nobody sent: those left are quiet. */
    for (id = 0; id < M0_LINKS_MAX; id++) {
      struct m0__link *l = &n->link[id];
      if (is_tcp(l) && !spent(l))
        l->quiet = true;
    }
    new_round(dev);
  }
}

uint64_t m0__flow_next(const struct m0_dev *dev) {
  const struct m0__network *n = &dev->net;
  if (!n->fair_waiting || n->links_paused || m0__flow_backlog(dev) > 0)
    return M0_TIME_NEVER;
  return n->fair_mark + QUIET_WAIT_NS;
}

void m0__flow_expire(struct m0_dev *dev, uint64_t now) {
  take_turns(dev, now); /* ends the wait: pauses follow in m0__flow_settle */
}

bool m0__flow_admit(struct m0_dev *dev, uint64_t now, size_t n) {
  enum m0__drop_kind kind;
  if (n == 0)
    return true;
  if (!dev->attached)
    kind = M0__DROP_TO_HOST_NO_HOST; /* lost like on a real UART (spec §2), never stale */
  else if (m0__flow_backlog(dev) + n > M0_UART_TXQ_SIZE)
    kind = M0__DROP_TO_HOST_FULL;
  else
    return true;
  dev->counters.uart_tx_dropped += n;
  m0__dev_drop(dev, now, kind, n);
  return false;
}

void m0__flow_to_host(struct m0_dev *dev, uint64_t now, const uint8_t *prefix, size_t plen,
                      const uint8_t *data, size_t len, bool whole) {
  struct m0__inbox *q = &dev->net.inbox;
  size_t total = plen + len, room, lost = 0;
  if (total == 0)
    return;
  if (whole) {
    if (!m0__flow_admit(dev, now, total))
      return;
  } else if (!dev->attached) {
    /* Nobody has the tty open: lost like on a real UART (spec §2), never delivered stale. */
    dev->counters.uart_tx_dropped += total;
    m0__dev_drop(dev, now, M0__DROP_TO_HOST_NO_HOST, total);
    return;
  }
  room = M0_NET_INBOX_SIZE - q->len;
  if (plen > room)
    plen = room;
  inbox_push(dev, prefix, plen);
  room -= plen;
  if (len > room) {
    lost = total - plen - room;
    len = room;
  }
  inbox_push(dev, data, len);
  m0__fault_inbox_in(dev, now, plen + len); /* from_net impairment: when they may move */
  if (lost > 0) {
    dev->counters.uart_tx_dropped += lost;
    m0__dev_drop(dev, now, M0__DROP_TO_HOST_FULL, lost);
  }
  /* Pausing is m0__flow_settle's, at the end of this same input. */
}

void m0__flow_settle(struct m0_dev *dev, uint64_t now) {
  struct m0__inbox *q = &dev->net.inbox;
  size_t backlog;
  if (!dev->attached) {
    inbox_drop(dev, now, M0__DROP_TO_HOST_NO_HOST);
  } else if (dev->mode == M0_MODE_TRANSPARENT && !dev->restart.pending) {
    while (q->len > 0 && dev->txq.len < UART_FILL) {
      size_t n = q->len, ready = m0__fault_inbox_ready(dev, now);
      if (n > M0_NET_INBOX_SIZE - q->head)
        n = M0_NET_INBOX_SIZE - q->head;
      if (n > UART_FILL - dev->txq.len)
        n = UART_FILL - dev->txq.len;
      if (n > ready)
        n = ready; /* an impaired network (fault.c): not yet */
      if (n == 0)
        break;
      m0__fault_inbox_out(dev, n);
      m0__host_send(dev, now, dev->bufs.inbox + q->head, n);
      q->head = (q->head + n) % M0_NET_INBOX_SIZE;
      q->len -= n;
      if (q->len == 0)
        q->head = 0;
    }
  }
  backlog = m0__flow_backlog(dev);
  if (dev->net.links_paused && backlog <= HOST_LOW) {
    dev->net.links_paused = false;
    dev->net.fair_mark = now; /* the links waited for get their chance from now */
  } else if (backlog >= HOST_HIGH) {
    dev->net.links_paused = true;
  }
  take_turns(dev, now);
  apply_pauses(dev); /* also a link opened since (a TCPC reconnect) */
}

void m0__flow_received(struct m0_dev *dev, uint64_t now, unsigned id, size_t len) {
  struct m0__link *l = &dev->net.link[id];
  if (!is_tcp(l))
    return;
  if (l->paused)
    dev->hal->link_pause(dev->ctx, id, true); /* again: it did not take (fresh client) */
  l->used += len;
  l->quiet = false;
  dev->net.fair_mark = now;
}

void m0__flow_queued(struct m0_dev *dev, unsigned id, uint64_t queued) {
  bool hold = false;
  unsigned k;
  dev->net.link[id].queued = queued;
  for (k = 0; k < M0_LINKS_MAX; k++) {
    const struct m0__link *l = &dev->net.link[k];
    if (is_tcp(l) && l->queued >= NET_HIGH)
      hold = true;
  }
  if (hold != dev->net.uart_held) {
    dev->net.uart_held = hold;
    m0__host_rx_hold(dev, hold);
  }
}

void m0__flow_reset(struct m0_dev *dev, uint64_t now) {
  unsigned id;
  inbox_drop(dev, now, M0__DROP_TO_HOST_RESTART);
  dev->net.links_paused = false;
  dev->net.fair_waiting = false;
  dev->net.fair_probing = false;
  for (id = 0; id < M0_LINKS_MAX; id++)
    dev->net.link[id].queued = 0;
  if (dev->net.uart_held) {
    dev->net.uart_held = false;
    m0__host_rx_hold(dev, false);
  }
}
