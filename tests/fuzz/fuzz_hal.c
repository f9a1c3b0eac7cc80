/* fuzz_hal.c: the fuzz targets' board (fuzz_hal.h). */
#include "fuzz_hal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* One advance fires the timer at most this often (an AT+H at 600 baud is ~2000 chunks);
 * past it time jumps and the next input catches up, as after a stalled event loop. */
#define FIRES_MAX 20000
/* fz_finish gives up after this many firings: more than any queue needs at 600 baud. */
#define FINISH_FIRES_MAX 400000

/* ---- input ---- */

uint8_t fz_u8(struct fz_in *in) { return in->pos < in->len ? in->p[in->pos++] : 0; }

uint16_t fz_u16(struct fz_in *in) {
  uint16_t hi = fz_u8(in);
  return (uint16_t)(hi << 8 | fz_u8(in));
}

bool fz_more(const struct fz_in *in) { return in->pos < in->len; }

size_t fz_take(struct fz_in *in, size_t n, const uint8_t **out) {
  size_t left = in->len - in->pos;
  if (n > left)
    n = left;
  *out = in->p + in->pos;
  in->pos += n;
  return n;
}

/* ---- checks ---- */

void fz_fail(const char *rule, const char *detail) {
  fprintf(stderr, "fuzz: broken: %s%s%s\n", rule, detail != NULL ? ": " : "",
          detail != NULL ? detail : "");
  abort();
}

void fz_check(struct fz *f) {
  const struct m0_dev *dev = f->dev;
  const char *broken = m0__dev_invariant(dev, f->now);
  unsigned id;
  char detail[96];
  if (broken != NULL)
    fz_fail(broken, "core invariant");
  if (f->timer != dev->armed)
    fz_fail("board.timer", "the board's timer is not what the core believes it armed");
  if (f->rx_enabled != dev->rx_enabled)
    fz_fail("board.rx-enable", "the board's reading switch differs from the core's");
  if (dev->counters.uart_tx != f->written)
    fz_fail("board.uart-tx-count", "counters.uart_tx is not what the pty took");
  if (dev->counters.net_tx != f->sent)
    fz_fail("board.net-tx-count", "counters.net_tx is not what the board accepted");
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &dev->net.link[id];
    const struct fz_link *b = &f->links[id];
    snprintf(detail, sizeof detail, "link %u", id);
    /* Where the faults make them differ on purpose (fault.c): a power cut's silent
     * connections (the board's, forgotten by the device) and dials into a pulled cable
     * (the device's, never given to the board). */
    if ((dev->fault.orphans & (1u << id)) || dev->fault.dial_until[id] != M0_TIME_NEVER)
      continue;
    if ((l->role != M0__LINK_FREE) != b->open)
      fz_fail("board.link-table", detail);
    if (b->open && l->up != b->up)
      fz_fail("board.link-up", detail);
    if (b->open && b->paused && !l->paused)
      fz_fail("board.link-paused", detail);
  }
}

static void check_event(const char *name, const char *fields) {
  const char *s;
  bool in_string = false;
  if (name == NULL || name[0] == '\0')
    fz_fail("hal.event-name", NULL);
  /* A JSON object body on one line: no control bytes, strings closed. */
  for (s = fields; *s != '\0'; s++) {
    if ((unsigned char)*s < 0x20)
      fz_fail("hal.event-json", name);
    if (*s == '\\' && in_string && s[1] != '\0')
      s++;
    else if (*s == '"')
      in_string = !in_string;
  }
  if (in_string)
    fz_fail("hal.event-json", name);
}

/* ---- the HAL ---- */

static size_t hal_uart_write(void *ctx, const uint8_t *data, size_t len) {
  struct fz *f = ctx;
  size_t n = len;
  (void)data;
  if (!f->dev->attached)
    fz_fail("hal.write-detached", "uart_write while no host has the tty open");
  if (len == 0)
    fz_fail("hal.write-empty", NULL);
  if (f->room != SIZE_MAX) {
    if (n > f->room)
      n = f->room;
    f->room -= n;
  }
  f->written += n;
  return n;
}

static void hal_uart_rx_enable(void *ctx, bool enable) {
  struct fz *f = ctx;
  if (enable == f->rx_enabled)
    fz_fail("hal.rx-enable-repeat", "the core told the board what it already knew");
  f->rx_enabled = enable;
}

static void hal_timer_arm(void *ctx, uint64_t when) {
  struct fz *f = ctx;
  f->timer = when;
}

/* Like the board: the write runs elsewhere and its outcome comes as a later input, at the
 * next turn of the loop (flash_done). One write at a time is the core's promise. */
static void hal_flash_save(void *ctx, const char *text, size_t len) {
  struct fz *f = ctx;
  if (len == 0 || len > M0_FLASH_MAX || text[len - 1] != '\n')
    fz_fail("hal.flash-text", NULL);
  if (f->flash_pending)
    fz_fail("hal.flash-one-at-a-time", "a second save before the first one's outcome");
  f->flash_pending = true;
}

static void flash_done(struct fz *f) {
  if (!f->flash_pending)
    return;
  f->flash_pending = false;
  m0_dev_on_flash_saved(f->dev, f->now, f->flash_result);
  fz_check(f);
}

static void hal_booted(void *ctx, const struct m0_config *running) {
  (void)ctx;
  (void)running;
}

/* FUZZ_TRACE=1 in the environment prints every event: to see what an input does. */
bool fz_tracing(void) {
  static int on = -1;
  if (on < 0)
    on = getenv("FUZZ_TRACE") != NULL;
  return on;
}

static void hal_event(void *ctx, const char *name, const char *fields) {
  struct fz *f = ctx;
  check_event(name, fields);
  f->events++;
  if (fz_tracing())
    fprintf(stderr, "%llu.%06llu %s {%s}\n", (unsigned long long)(f->now / M0_NS_PER_S),
            (unsigned long long)(f->now % M0_NS_PER_S / 1000), name, fields);
}

static int hal_link_open(void *ctx, unsigned id, const struct m0_link_open *request) {
  struct fz *f = ctx;
  struct fz_link *l;
  if (id >= M0_LINKS_MAX)
    fz_fail("hal.link-id", "open");
  l = &f->links[id];
  if (l->open)
    fz_fail("hal.open-while-open", "the core reused an id the board still has");
  if (request->kind == M0_LINK_TCP_ACCEPTED)
    fz_fail("hal.open-accepted", NULL);
  if (f->open_result < 0)
    return f->open_result;
  memset(l, 0, sizeof *l);
  l->open = true;
  l->kind = request->kind;
  l->peer = request->peer;
  return 0;
}

static long hal_link_send(void *ctx, unsigned id, const uint8_t *data, size_t len,
                          const struct m0_net_addr *to) {
  struct fz *f = ctx;
  struct fz_link *l;
  (void)data;
  (void)to;
  if (id >= M0_LINKS_MAX)
    fz_fail("hal.link-id", "send");
  l = &f->links[id];
  if (!l->open && (int)id == f->reporting_down)
    return -1; /* what was due ran first and sent on it: the board refuses, as it does */
  if (!l->open || !l->up)
    fz_fail("hal.send-not-up", "a send on a link that is not connected or bound");
  if (l->kind == M0_LINK_TCP_LISTEN)
    fz_fail("hal.send-listener", NULL);
  if (len == 0)
    fz_fail("hal.send-empty", NULL);
  f->sent += len;
  if (l->kind == M0_LINK_UDP)
    return 0;
  l->backlog += (uint64_t)len * (f->send_scale > 0 ? f->send_scale : 1);
  return (long)l->backlog;
}

static void hal_link_close(void *ctx, unsigned id) {
  struct fz *f = ctx;
  if (id >= M0_LINKS_MAX)
    fz_fail("hal.link-id", "close");
  if (!f->links[id].open) {
    /* The board forgets a link before it reports it down, and the core first runs
     * what was due (a restart closes every link): that close may name it. */
    if ((int)id == f->reporting_down)
      return;
    fz_fail("hal.close-not-open", "the core closed a link the board does not have");
  }
  memset(&f->links[id], 0, sizeof f->links[id]);
}

/* A reset (faults): the board forgets the link; one it no longer has is ignored. */
static void hal_link_abort(void *ctx, unsigned id) {
  struct fz *f = ctx;
  if (id >= M0_LINKS_MAX)
    fz_fail("hal.link-id", "abort");
  memset(&f->links[id], 0, sizeof f->links[id]);
}

static void hal_link_pause(void *ctx, unsigned id, bool paused) {
  struct fz *f = ctx;
  struct fz_link *l;
  if (id >= M0_LINKS_MAX)
    fz_fail("hal.link-id", "pause");
  l = &f->links[id];
  /* A client being accepted is not the board's yet (flow.c): the pause misses it. */
  if (!l->open)
    return;
  if (paused && !l->paused)
    l->read_in_flight = true; /* the read under way still arrives */
  l->paused = paused;
}

/* ---- life ---- */

static uint64_t fire_time(const struct fz *f) {
  if (f->timer == M0_TIME_NEVER)
    return M0_TIME_NEVER;
  return f->timer > M0_TIME_NEVER - 1 - f->timer_late ? M0_TIME_NEVER - 1
                                                      : f->timer + f->timer_late;
}


void fz_options(struct m0_dev_options *o, bool fast) {
  memset(o, 0, sizeof *o);
  memcpy(o->factory.mac, "D8B04C000001", 13);
  memcpy(o->factory.ver, "V4017", 6);
  memcpy(o->factory.pdtime, "2026-11-23", 11);
  o->dialect = M0_DIALECT_DOC;
  o->timing = fast ? M0_TIMING_FAST : M0_TIMING_REAL;
  o->boot_ns = 200 * M0_NS_PER_MS;
}

void fz_init(struct fz *f, struct m0_dev *dev, const struct m0_dev_options *o,
             const struct m0_config *saved, uint64_t start) {
  memset(f, 0, sizeof *f);
  f->hal.uart_write = hal_uart_write;
  f->hal.uart_rx_enable = hal_uart_rx_enable;
  f->hal.timer_arm = hal_timer_arm;
  f->hal.flash_save = hal_flash_save;
  f->hal.booted = hal_booted;
  f->hal.event = hal_event;
  f->hal.log = NULL;
  f->hal.link_open = hal_link_open;
  f->hal.link_send = hal_link_send;
  f->hal.link_close = hal_link_close;
  f->hal.link_pause = hal_link_pause;
  f->hal.link_abort = hal_link_abort;
  f->dev = dev;
  f->now = start;
  f->timer = M0_TIME_NEVER;
  f->room = SIZE_MAX;
  f->rx_enabled = true;
  f->send_scale = 1;
  f->reporting_down = -1;
  m0_dev_init(dev, &f->hal, f, o, saved);
}

void fz_advance_to(struct fz *f, uint64_t when) {
  flash_done(f);
  f->fires = 0;
  while (f->timer != M0_TIME_NEVER && fire_time(f) <= when && f->fires < FIRES_MAX) {
    uint64_t t = fire_time(f);
    if (t > f->now)
      f->now = t;
    f->timer = M0_TIME_NEVER; /* one-shot */
    f->fires++;
    m0_dev_on_timer(f->dev, f->now);
    fz_check(f);
  }
  if (when > f->now)
    f->now = when;
}

void fz_advance(struct fz *f, uint64_t ns) {
  fz_advance_to(f, f->now > M0_TIME_NEVER / 2 ? f->now : f->now + ns);
}

void fz_uart_rx(struct fz *f, const uint8_t *data, size_t len, bool obey) {
  unsigned waits = 0;
  if (!obey) {
    if (len > 0) {
      m0_dev_on_uart_rx(f->dev, f->now, data, len);
      fz_check(f);
    }
    return;
  }
  /* The host wrote len bytes into the pty; the board reads them as the core allows,
   * waiting (the clock moves) while it has stopped reading. */
  while (len > 0) {
    size_t budget = 0;
    if (f->rx_enabled) {
      budget = m0_dev_uart_rx_budget(f->dev, f->now);
      fz_check(f);
    }
    if (budget == 0) {
      if (f->flash_pending) { /* reading waits for the write's outcome */
        flash_done(f);
        continue;
      }
      if (f->timer == M0_TIME_NEVER || ++waits > 1000)
        return; /* held for the network (or for long): the rest stays in the pty */
      fz_advance_to(f, fire_time(f) > f->now ? fire_time(f) : f->now);
      continue;
    }
    if (budget > len)
      budget = len;
    m0_dev_on_uart_rx(f->dev, f->now, data, budget);
    fz_check(f);
    data += budget;
    len -= budget;
  }
}

void fz_host_reads(struct fz *f, size_t n, bool unlimited) {
  if (unlimited)
    f->room = SIZE_MAX;
  else if (f->room != SIZE_MAX)
    f->room += n;
  else
    f->room = n;
  m0_dev_on_uart_writable(f->dev, f->now);
  fz_check(f);
}

void fz_attach(struct fz *f, bool attached) {
  m0_dev_on_host_attach(f->dev, f->now, attached);
  fz_check(f);
}

void fz_link_up(struct fz *f, unsigned id) {
  struct fz_link *l;
  if (id >= M0_LINKS_MAX)
    return;
  l = &f->links[id];
  if (!l->open || l->up || l->kind == M0_LINK_TCP_ACCEPTED)
    return;
  l->up = true;
  m0_dev_on_link_up(f->dev, f->now, id, &l->peer);
  fz_check(f);
}

void fz_link_down(struct fz *f, unsigned id, int reason) {
  if (id >= M0_LINKS_MAX || !f->links[id].open)
    return;
  memset(&f->links[id], 0, sizeof f->links[id]);
  f->reporting_down = (int)id;
  m0_dev_on_link_down(f->dev, f->now, id, reason);
  f->reporting_down = -1;
  fz_check(f);
}

void fz_link_rx(struct fz *f, unsigned id, const uint8_t *data, size_t len,
                const struct m0_net_addr *from) {
  struct fz_link *l;
  if (id >= M0_LINKS_MAX)
    return;
  l = &f->links[id];
  if (!l->open || !l->up || l->kind == M0_LINK_TCP_LISTEN || len == 0)
    return;
  if (len > M0_LINK_RX_MAX)
    len = M0_LINK_RX_MAX;
  if (l->kind != M0_LINK_UDP) {
    if (l->paused) {
      if (!l->read_in_flight)
        return; /* the board stopped reading it */
      l->read_in_flight = false;
    }
    from = NULL;
  }
  m0_dev_on_link_rx(f->dev, f->now, id, data, len, from);
  fz_check(f);
}

void fz_link_accept(struct fz *f, const struct m0_net_addr *peer) {
  int id;
  unsigned k;
  for (k = 0; k < M0_LINKS_MAX; k++) {
    if (f->links[k].open && f->links[k].up && f->links[k].kind == M0_LINK_TCP_LISTEN)
      break;
  }
  if (k == M0_LINKS_MAX)
    return;
  id = m0_dev_on_link_accept(f->dev, f->now, k, peer);
  if (id >= 0) {
    struct fz_link *l;
    if (id >= M0_LINKS_MAX)
      fz_fail("hal.accept-id", NULL);
    l = &f->links[id];
    if (l->open)
      fz_fail("hal.accept-open-id", "the core gave a newcomer an id the board still has");
    memset(l, 0, sizeof *l);
    l->open = true;
    l->up = true;
    l->kind = M0_LINK_TCP_ACCEPTED;
    l->peer = *peer;
  }
  fz_check(f);
}

void fz_link_drain(struct fz *f, unsigned id) {
  if (id >= M0_LINKS_MAX || !f->links[id].open || f->links[id].kind == M0_LINK_UDP ||
      f->links[id].kind == M0_LINK_TCP_LISTEN)
    return;
  f->links[id].backlog = 0;
  m0_dev_on_link_drained(f->dev, f->now, id);
  fz_check(f);
}

int fz_pick_link(const struct fz *f, uint8_t sel, unsigned kinds, int up) {
  int ids[M0_LINKS_MAX];
  unsigned id, n = 0;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct fz_link *l = &f->links[id];
    if (!l->open || !(kinds & (1u << l->kind)))
      continue;
    if (up != 2 && l->up != (up == 1))
      continue;
    ids[n++] = (int)id;
  }
  return n == 0 ? -1 : ids[sel % n];
}

static bool drained(const struct m0_dev *dev) {
  return dev->txq.len == 0 &&
         (dev->net.inbox.len == 0 || dev->mode != M0_MODE_TRANSPARENT || dev->restart.pending);
}

void fz_finish(struct fz *f) {
  unsigned fires = 0;
  fz_host_reads(f, 0, true);
  flash_done(f);
  while (!drained(f->dev)) {
    uint64_t t = fire_time(f);
    if (t == M0_TIME_NEVER)
      fz_fail("liveness.host-drains", "bytes wait for the host and nothing is armed");
    if (++fires > FINISH_FIRES_MAX)
      fz_fail("liveness.host-drains", "bytes wait for the host for ever");
    fz_advance_to(f, t > f->now ? t : f->now);
  }
}
