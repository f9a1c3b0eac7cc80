/* fake_hal.c: the recording HAL and virtual clock of fake_hal.h.
 *
 * Assertion failures inside the fake (a capacity exceeded, a contract broken) use cmocka's
 * fail_msg so the test that caused them fails at once with a readable reason.
 */
#include "fake_hal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "m0/flash_text.h"
#include "m0/params.h"

static size_t hal_uart_write(void *ctx, const uint8_t *data, size_t len) {
  struct fake *f = ctx;
  size_t n = len;
  f->write_calls++;
  if (f->dev != NULL && !f->dev->attached)
    f->writes_while_detached++;
  if (f->room != SIZE_MAX) {
    if (n > f->room)
      n = f->room;
    f->room -= n;
  }
  if (f->out_len + n > FAKE_OUT_MAX)
    fail_msg("fake: more than %u bytes of output without fake_out_clear()", FAKE_OUT_MAX);
  memcpy(f->out + f->out_len, data, n);
  f->out_len += n;
  f->out[f->out_len] = '\0';
  f->out_total += n;
  if (f->nwrites < FAKE_WRITES_MAX && n > 0) {
    f->writes[f->nwrites].at = f->now;
    f->writes[f->nwrites].len = n;
    f->nwrites++;
  }
  return n;
}

static void hal_uart_rx_enable(void *ctx, bool enable) {
  struct fake *f = ctx;
  if (enable)
    f->rx_enable_calls++;
  else
    f->rx_disable_calls++;
  f->rx_enabled = enable;
}

static void hal_timer_arm(void *ctx, uint64_t when) {
  struct fake *f = ctx;
  f->timer = when;
  f->timer_arms++;
}

/* The write lands: what flash holds and the count of successful saves. */
static void flash_land(struct fake *f, const char *text, size_t len) {
  memcpy(f->flash, text, len);
  f->flash[len] = '\0';
  f->flash_len = len;
  f->flash_saves++;
}

static void hal_flash_save(void *ctx, const char *text, size_t len) {
  struct fake *f = ctx;
  f->flash_attempts++;
  if (len > M0_FLASH_MAX)
    fail_msg("fake: flash text of %zu bytes", len);
  if (f->flash_pending)
    fail_msg("fake: flash_save while a save is in flight");
  if (f->flash_async) { /* in flight until fake_flash_complete() */
    memcpy(f->flash_pending_text, text, len);
    f->flash_pending_len = len;
    f->flash_pending = true;
    return;
  }
  if (f->flash_result == 0)
    flash_land(f, text, len);
  m0_dev_on_flash_saved(f->dev, f->now, f->flash_result); /* within the call */
}

void fake_flash_complete(struct fake *f, int rc) {
  if (!f->flash_pending)
    fail_msg("fake: no save in flight to complete");
  f->flash_pending = false;
  if (rc == 0)
    flash_land(f, f->flash_pending_text, f->flash_pending_len);
  m0_dev_on_flash_saved(f->dev, f->now, rc);
}

static void hal_booted(void *ctx, const struct m0_config *running) {
  struct fake *f = ctx;
  f->booted_calls++;
  f->booted_cfg = *running;
}

static void hal_event(void *ctx, const char *name, const char *fields) {
  struct fake *f = ctx;
  if (f->nevents == FAKE_EVENTS_MAX)
    fail_msg("fake: more than %u events without fake_events_clear()", FAKE_EVENTS_MAX);
  f->event_at[f->nevents] = f->now;
  snprintf(f->events[f->nevents++], FAKE_EVENT_LEN, "%s {%s}", name, fields);
}

static void hal_log(void *ctx, const char *message) {
  struct fake *f = ctx;
  if (f->nlogs < FAKE_LOGS_MAX)
    snprintf(f->logs[f->nlogs], sizeof f->logs[0], "%s", message);
  f->nlogs++;
}

static void hal_warn(void *ctx, const char *message) {
  struct fake *f = ctx;
  if (f->nwarns < FAKE_LOGS_MAX)
    snprintf(f->warns[f->nwarns], sizeof f->warns[0], "%s", message);
  f->nwarns++;
}

static size_t hal_uart_rx_pending(void *ctx) {
  return ((struct fake *)ctx)->rx_pending;
}

static const char *kind_name(enum m0_link_kind k) {
  switch (k) {
  case M0_LINK_TCP_CONNECT:
    return "tcp";
  case M0_LINK_TCP_LISTEN:
    return "listen";
  case M0_LINK_TCP_ACCEPTED:
    return "accepted";
  case M0_LINK_UDP:
    return "udp";
  }
  return "?";
}

static void op(struct fake *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void op(struct fake *f, const char *fmt, ...) {
  va_list ap;
  if (f->nops == FAKE_OPS_MAX)
    fail_msg("fake: more than %u link calls without fake_ops_clear()", FAKE_OPS_MAX);
  va_start(ap, fmt);
  vsnprintf(f->ops[f->nops++], FAKE_OP_LEN, fmt, ap);
  va_end(ap);
}

static void check_id(unsigned id) {
  if (id >= M0_LINKS_MAX)
    fail_msg("fake: link id %u out of range", id);
}

static void link_reset(struct fake_link *l) {
  l->open = false;
  l->paused = false;
  l->backlog = 0;
  l->stream_len = 0;
  l->stream_total = 0;
  l->stream[0] = '\0';
}

static int hal_link_open(void *ctx, unsigned id, const struct m0_link_open *request) {
  struct fake *f = ctx;
  struct fake_link *l;
  check_id(id);
  l = &f->links[id];
  f->link_calls++;
  op(f, "open %u %s %s:%u from %u%s", id, kind_name(request->kind), request->peer.host,
     request->peer.port, request->local_port, request->keepalive ? " keepalive" : "");
  if (l->open)
    fail_msg("fake: link %u opened while open", id);
  if (f->link_open_result < 0)
    return f->link_open_result;
  link_reset(l);
  l->open = true;
  l->req = *request;
  l->opens++;
  return 0;
}

static long hal_link_send(void *ctx, unsigned id, const uint8_t *data, size_t len,
                          const struct m0_net_addr *to) {
  struct fake *f = ctx;
  struct fake_link *l;
  size_t keep;
  check_id(id);
  l = &f->links[id];
  f->link_calls++;
  if (to != NULL)
    op(f, "send %u %zu to %s:%u", id, len, to->host, to->port);
  else
    op(f, "send %u %zu", id, len);
  if (!l->open) {
    f->sends_on_closed++;
    return -1;
  }
  if (f->nsends < FAKE_SENDS_MAX) {
    struct fake_send *s = &f->sends[f->nsends++];
    s->at = f->now;
    s->id = id;
    s->len = len;
    s->has_to = to != NULL;
    if (to != NULL)
      s->to = *to;
    memcpy(s->data, data, len < FAKE_SEND_KEEP ? len : FAKE_SEND_KEEP);
  }
  keep = FAKE_STREAM_MAX - l->stream_len;
  if (keep > len)
    keep = len;
  memcpy(l->stream + l->stream_len, data, keep);
  l->stream_len += keep;
  l->stream[l->stream_len] = '\0';
  l->stream_total += len;
  l->sends++;
  if (l->req.kind == M0_LINK_UDP)
    return 0;
  if (l->backlog_mode) {
    l->backlog += len;
    return (long)l->backlog;
  }
  return 0;
}

static void hal_link_close(void *ctx, unsigned id) {
  struct fake *f = ctx;
  check_id(id);
  f->link_calls++;
  op(f, "close %u", id);
  if (!f->links[id].open)
    fail_msg("fake: link %u closed while not open", id);
  f->links[id].open = false;
  f->links[id].closes++;
}

static void hal_link_pause(void *ctx, unsigned id, bool paused) {
  struct fake *f = ctx;
  check_id(id);
  f->link_calls++;
  op(f, "pause %u %s", id, paused ? "on" : "off");
  f->links[id].paused = paused;
  if (paused)
    f->links[id].pauses++;
  else
    f->links[id].resumes++;
}

static void tap(void *arg, uint64_t now, const uint8_t *data, size_t len) {
  struct fake *f = arg;
  struct fake_frame *fr;
  if (f->nframes == FAKE_FRAMES_MAX)
    fail_msg("fake: more than %u frames without fake_frames_clear()", FAKE_FRAMES_MAX);
  if (len == 0 || len > M0_FRAME_MAX)
    fail_msg("fake: frame of %zu bytes", len);
  fr = &f->frames[f->nframes++];
  fr->at = now;
  fr->len = len;
  memcpy(fr->data, data, len);
}

void fake_options(struct m0_dev_options *o) {
  memset(o, 0, sizeof *o);
  snprintf(o->factory.mac, sizeof o->factory.mac, "D8B04C000001");
  snprintf(o->factory.ver, sizeof o->factory.ver, "V4017");
  snprintf(o->factory.pdtime, sizeof o->factory.pdtime, "2026-11-23");
  o->dialect = M0_DIALECT_DOC;
  o->timing = M0_TIMING_REAL;
  o->boot_ns = 200 * M0_NS_PER_MS;
  o->line_faults = false;
}

void fake_init(struct fake *f, struct m0_dev *dev, const struct m0_dev_options *options,
               const struct m0_config *saved, uint64_t start) {
  struct m0_config defaults;
  memset(f, 0, sizeof *f);
  f->hal.uart_write = hal_uart_write;
  f->hal.uart_rx_enable = hal_uart_rx_enable;
  f->hal.uart_rx_pending = hal_uart_rx_pending;
  f->hal.timer_arm = hal_timer_arm;
  f->hal.flash_save = hal_flash_save;
  f->hal.booted = hal_booted;
  f->hal.event = hal_event;
  f->hal.log = hal_log;
  f->hal.warn = hal_warn;
  f->hal.link_open = hal_link_open;
  f->hal.link_send = hal_link_send;
  f->hal.link_close = hal_link_close;
  f->hal.link_pause = hal_link_pause;
  f->dev = dev;
  f->now = start;
  f->room = SIZE_MAX;
  f->rx_enabled = true; /* a board reads from the start */
  f->timer = M0_TIME_NEVER;
  if (saved == NULL) {
    m0_config_defaults(&defaults);
    saved = &defaults;
  }
  m0_dev_init(dev, &f->hal, f, options, saved);
  dev->frame_tap = tap;
  dev->frame_tap_arg = f;
}

void fake_boot(struct fake *f, struct m0_dev *dev, const struct m0_dev_options *options,
               const struct m0_config *saved) {
  fake_init(f, dev, options, saved, 1000 * M0_NS_PER_S);
  m0_dev_start(dev, f->now);
  fake_advance(f, options->boot_ns);
  if (m0_dev_mode(dev) != M0_MODE_TRANSPARENT)
    fail_msg("fake: device did not boot");
  m0_dev_on_host_attach(dev, f->now, true);
  /* Far from the boot, so the +++ idle guard holds for the first byte. */
  fake_advance(f, M0_NS_PER_S);
  fake_clear(f);
}

/* When the armed timer really fires. */
static uint64_t fire_time(const struct fake *f) {
  uint64_t t = f->timer;
  if (t == M0_TIME_NEVER)
    return t;
  if (f->timer_quantum > 0)
    t = (t + f->timer_quantum - 1) / f->timer_quantum * f->timer_quantum;
  return t + f->timer_late;
}

void fake_advance_to(struct fake *f, uint64_t when) {
  if (when < f->now)
    fail_msg("fake: time goes backwards");
  while (f->timer != M0_TIME_NEVER && fire_time(f) <= when) {
    uint64_t t = fire_time(f);
    if (t > f->now)
      f->now = t;
    f->timer = M0_TIME_NEVER; /* one-shot, like the board's */
    m0_dev_on_timer(f->dev, f->now);
  }
  f->now = when;
}

void fake_advance(struct fake *f, uint64_t ns) { fake_advance_to(f, f->now + ns); }

void fake_run(struct fake *f, uint64_t limit) {
  uint64_t end = f->now + limit;
  while (f->timer != M0_TIME_NEVER && fire_time(f) <= end)
    fake_advance_to(f, fire_time(f) > f->now ? fire_time(f) : f->now);
}

uint64_t fake_next_fire(const struct fake *f) { return fire_time(f); }

void fake_rx_bytes(struct fake *f, const void *data, size_t len) {
  m0_dev_on_uart_rx(f->dev, f->now, data, len);
}

void fake_rx(struct fake *f, const char *s) { fake_rx_bytes(f, s, strlen(s)); }

void fake_type(struct fake *f, const char *s, uint64_t gap) {
  size_t i, n = strlen(s);
  for (i = 0; i < n; i++) {
    if (i > 0)
      fake_advance(f, gap);
    fake_rx_bytes(f, s + i, 1);
  }
}

const char *fake_out(const struct fake *f) { return (const char *)f->out; }

void fake_out_clear(struct fake *f) {
  f->out_len = 0;
  f->out[0] = '\0';
}

void fake_host_reads(struct fake *f, size_t n) {
  if (f->room != SIZE_MAX)
    f->room += n;
  m0_dev_on_uart_writable(f->dev, f->now);
}

const char *fake_event(const struct fake *f, unsigned i) {
  return i < f->nevents ? f->events[i] : "";
}

int fake_find_event(const struct fake *f, const char *text) {
  unsigned i;
  for (i = 0; i < f->nevents; i++) {
    if (strcmp(f->events[i], text) == 0)
      return (int)i;
  }
  return -1;
}

unsigned fake_count_events(const struct fake *f, const char *prefix) {
  unsigned i, n = 0;
  for (i = 0; i < f->nevents; i++) {
    if (strncmp(f->events[i], prefix, strlen(prefix)) == 0)
      n++;
  }
  return n;
}

void fake_events_clear(struct fake *f) { f->nevents = 0; }

void fake_frames_clear(struct fake *f) { f->nframes = 0; }

size_t fake_frames_concat(const struct fake *f, char *buf, size_t cap) {
  size_t n = 0;
  unsigned i;
  for (i = 0; i < f->nframes; i++) {
    if (n + f->frames[i].len + 1 > cap)
      fail_msg("fake: frames do not fit in %zu bytes", cap);
    memcpy(buf + n, f->frames[i].data, f->frames[i].len);
    n += f->frames[i].len;
  }
  buf[n] = '\0';
  return n;
}

void fake_clear(struct fake *f) {
  fake_out_clear(f);
  fake_events_clear(f);
  fake_frames_clear(f);
  f->write_calls = 0;
  f->nwrites = 0;
  f->rx_enable_calls = f->rx_disable_calls = 0;
  f->timer_arms = 0;
  f->flash_saves = f->flash_attempts = 0;
  f->booted_calls = 0;
  f->nlogs = 0;
  f->nwarns = 0;
  f->link_calls = 0;
  fake_ops_clear(f);
  f->nsends = 0;
}

/* ---- the network ---- */

const char *fake_op(const struct fake *f, unsigned i) { return i < f->nops ? f->ops[i] : ""; }

int fake_find_op(const struct fake *f, const char *text) {
  unsigned i;
  for (i = 0; i < f->nops; i++) {
    if (strcmp(f->ops[i], text) == 0)
      return (int)i;
  }
  return -1;
}

unsigned fake_count_ops(const struct fake *f, const char *prefix) {
  unsigned i, n = 0;
  for (i = 0; i < f->nops; i++) {
    if (strncmp(f->ops[i], prefix, strlen(prefix)) == 0)
      n++;
  }
  return n;
}

void fake_ops_clear(struct fake *f) { f->nops = 0; }

void fake_link_up(struct fake *f, unsigned id) {
  check_id(id);
  if (!f->links[id].open)
    fail_msg("fake: link %u reported up while not open", id);
  m0_dev_on_link_up(f->dev, f->now, id, &f->links[id].req.peer);
}

void fake_link_down(struct fake *f, unsigned id, int reason) {
  check_id(id);
  if (!f->links[id].open)
    fail_msg("fake: link %u reported down while not open", id);
  f->links[id].open = false;
  m0_dev_on_link_down(f->dev, f->now, id, reason);
}

int fake_link_accept(struct fake *f, unsigned listen_id, const char *host, uint16_t port) {
  struct m0_net_addr peer;
  int id;
  memset(&peer, 0, sizeof peer);
  snprintf(peer.host, sizeof peer.host, "%s", host);
  peer.port = port;
  id = m0_dev_on_link_accept(f->dev, f->now, listen_id, &peer);
  if (id >= 0) {
    struct fake_link *l;
    check_id((unsigned)id);
    l = &f->links[id];
    if (l->open)
      fail_msg("fake: accepted client given link %d, which is still open", id);
    link_reset(l);
    l->open = true;
    memset(&l->req, 0, sizeof l->req);
    l->req.kind = M0_LINK_TCP_ACCEPTED;
    l->req.peer = peer;
    l->opens++;
  }
  return id;
}

void fake_link_rx(struct fake *f, unsigned id, const void *data, size_t len) {
  check_id(id);
  if (!f->links[id].open)
    fail_msg("fake: bytes on link %u while not open", id);
  m0_dev_on_link_rx(f->dev, f->now, id, data, len, NULL);
}

void fake_link_rx_str(struct fake *f, unsigned id, const char *s) {
  fake_link_rx(f, id, s, strlen(s));
}

void fake_link_datagram(struct fake *f, unsigned id, const char *s, const char *host,
                        uint16_t port) {
  struct m0_net_addr from;
  check_id(id);
  if (!f->links[id].open)
    fail_msg("fake: datagram on link %u while not open", id);
  memset(&from, 0, sizeof from);
  snprintf(from.host, sizeof from.host, "%s", host);
  from.port = port;
  m0_dev_on_link_rx(f->dev, f->now, id, (const uint8_t *)s, strlen(s), &from);
}

void fake_link_drain(struct fake *f, unsigned id) {
  check_id(id);
  f->links[id].backlog = 0;
  m0_dev_on_link_drained(f->dev, f->now, id);
}

const char *fake_link_sent(struct fake *f, unsigned id) {
  check_id(id);
  f->links[id].stream[f->links[id].stream_len] = '\0';
  return (const char *)f->links[id].stream;
}

void fake_link_clear(struct fake *f, unsigned id) {
  check_id(id);
  f->links[id].stream_len = 0;
  f->links[id].stream_total = 0;
  f->links[id].stream[0] = '\0';
}

/* The exchange is over on the host's side: nothing left to write or pace toward the host,
 * no restart, boot or flash write under way. The network's deadlines do not count: a dial
 * nobody answers is given up every 10 s and tried again for ever. */
static bool host_side_done(const struct fake *f) {
  const struct m0_dev *d = f->dev;
  return d->txq.len == 0 && !d->restart.pending && d->mode != M0_MODE_BOOTING &&
         !m0_dev_saving(d);
}

const char *fake_at(struct fake *f, const char *line) {
  uint64_t end;
  fake_out_clear(f);
  fake_rx(f, line);
  fake_rx(f, "\r");
  end = f->now + FAKE_DRAIN_NS;
  while (f->timer != M0_TIME_NEVER && fire_time(f) <= end && !host_side_done(f))
    fake_advance_to(f, fire_time(f) > f->now ? fire_time(f) : f->now);
  return fake_out(f);
}

void fake_enter_command(struct fake *f) {
  /* A second of silence satisfies the idle guard at any baud. */
  fake_advance(f, M0_NS_PER_S);
  fake_rx(f, "+");
  fake_advance(f, M0_NS_PER_MS);
  fake_rx(f, "+");
  fake_advance(f, M0_NS_PER_MS);
  fake_rx(f, "+");
  fake_advance(f, M0_NS_PER_MS);
  fake_rx(f, "a");
  fake_run(f, M0_NS_PER_S); /* let "a+ok" drain at line rate */
  if (m0_dev_mode(f->dev) != M0_MODE_COMMAND)
    fail_msg("fake: handshake did not reach command mode");
  fake_out_clear(f);
  fake_events_clear(f);
}

void fake_start(struct fake *f, struct m0_dev *dev, const struct m0_dev_options *options,
                const struct m0_config *saved, uint64_t start) {
  fake_init(f, dev, options, saved, start);
  m0_dev_start(dev, f->now);
}

void fake_boot_link_up(struct fake *f, struct m0_dev *dev,
                       const struct m0_dev_options *options, const struct m0_config *saved) {
  fake_boot(f, dev, options, saved);
  fake_link_up(f, 0);
  fake_clear(f);
}

void fake_config_udpc(struct m0_config *cfg) {
  cfg->proto = M0_PROTO_UDPC;
  snprintf(cfg->sock_addr, sizeof cfg->sock_addr, "%s", "10.0.0.7");
  cfg->sock_port = 7000;
}

void fake_rx_frame(struct fake *f, const char *s) {
  fake_rx(f, s);
  fake_advance(f, M0_NS_PER_MS);
}

uint64_t fake_packing_ns(unsigned bits, uint32_t baud) {
  return (4ull * bits * M0_NS_PER_S + baud - 1) / baud;
}

const char *fake_out_drained(struct fake *f) {
  fake_run(f, M0_NS_PER_S);
  return fake_out(f);
}

void fake_assert_frame(const struct fake *f, unsigned i, const char *text) {
  if (i >= f->nframes)
    fail_msg("fake: frame %u expected (\"%s\"), only %u seen", i, text, f->nframes);
  assert_int_equal(f->frames[i].len, strlen(text));
  assert_memory_equal(f->frames[i].data, text, strlen(text));
}

void fake_assert_send(const struct fake *f, unsigned i, unsigned id, const char *text) {
  if (i >= f->nsends)
    fail_msg("fake: send %u expected (\"%s\"), only %u made", i, text, f->nsends);
  assert_int_equal(f->sends[i].id, id);
  assert_int_equal(f->sends[i].len, strlen(text));
  assert_memory_equal(f->sends[i].data, text, strlen(text));
}
