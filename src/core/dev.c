/* dev.c: one device's life: boot, modes, restart, the single timer, the host's bytes in
 * by mode, events and drop accounting (spec §2, §3.4, §5). The set path and the flash
 * write in flight are save.c's; the running UART settings against the host's line,
 * host_line.c's.
 *
 * Every input runs in four steps: first whatever deadline is already due (the board's
 * timer has millisecond resolution and may fire late, so each input catches up before it
 * acts, and the outcome does not depend on how late the timer was), then the input, then
 * network data moves on toward the host (flow.c), then the timer is armed for the
 * earliest deadline left. The concerns keep their own deadlines (boot end, +++ window,
 * frame idle, both pacing budgets, restart after drain, trailing drop events, the
 * heartbeat, and the network's: retry, short-connection idle, RSTIM, the HTTP response
 * timeout, each link's similar-RFC2217 hold); only this file talks to hal->timer_arm.
 *
 * The COM heartbeat runs while in transparent mode: from the end of each boot and from
 * each AT+ENTM, one HEARTTM later, stopped by command mode and by a restart. While a
 * flash write is in flight in command mode, host bytes are kept here in order (4 KiB)
 * and go on after its outcome (m0__dev_release_held).
 *
 * `drop` events are rate-limited to one per kind per second of device time: each carries
 * the kind's cumulative byte count since m0_dev_init(), and when drops were suppressed a
 * trailing event follows one second after the last, so the final count always shows up.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "m0/json.h"
#include "reg.h"
#include "heart.h"

/* Bytes typed after AT+Z / AT+RELD are not a reason to wait forever: restart anyway this
 * long after the reply should have reached the host at line rate. */
#define RESTART_DRAIN_SLACK_NS M0_NS_PER_S

static const struct {
  const char *dir, *reason;
} drop_kinds[M0__DROP_COUNT] = {
  [M0__DROP_TO_NET_NO_NETWORK] = {"to_net", "no-network"},
  [M0__DROP_TO_NET_RESTART] = {"to_net", "restart"},
  [M0__DROP_TO_HOST_NO_HOST] = {"to_host", "no-host"},
  [M0__DROP_TO_HOST_FULL] = {"to_host", "queue-full"},
  [M0__DROP_TO_HOST_RESTART] = {"to_host", "restart"},
  [M0__DROP_FROM_HOST_BOOTING] = {"from_host", "booting"},
  [M0__DROP_FROM_HOST_RESTARTING] = {"from_host", "restarting"},
  [M0__DROP_TO_NET_NOT_CONNECTED] = {"to_net", "not-connected"},
  [M0__DROP_TO_NET_BUFFER_FULL] = {"to_net", "buffer-full"},
  [M0__DROP_TO_NET_SEND_ERROR] = {"to_net", "send-error"},
  [M0__DROP_FROM_NET_STRANGER] = {"from_net", "stranger"},
  [M0__DROP_FROM_HOST_FLASH_BUSY] = {"from_host", "flash-busy"},
  [M0__DROP_FROM_HOST_OFF] = {"from_host", "off"},
  [M0__DROP_TO_HOST_OFF] = {"to_host", "off"},
  [M0__DROP_FROM_HOST_HANG] = {"from_host", "hang"},
  [M0__DROP_TO_NET_CABLE] = {"to_net", "cable"},
  [M0__DROP_FROM_NET_CABLE] = {"from_net", "cable"},
  [M0__DROP_TO_NET_HANG] = {"to_net", "hang"},
  [M0__DROP_FROM_NET_HANG] = {"from_net", "hang"},
  [M0__DROP_FROM_HOST_LOSS] = {"from_host", "line-loss"},
  [M0__DROP_TO_HOST_LOSS] = {"to_host", "line-loss"},
  [M0__DROP_TO_NET_LOSS] = {"to_net", "net-loss"},
  [M0__DROP_FROM_NET_LOSS] = {"from_net", "net-loss"},
};

static uint64_t add_sat(uint64_t a, uint64_t b) {
  return a > M0_TIME_NEVER - b ? M0_TIME_NEVER : a + b;
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

void m0__dev_event(struct m0_dev *dev, const char *name, const char *fmt, ...) {
  char fields[512];
  va_list ap;
  if (dev->hal->event == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(fields, sizeof fields, fmt, ap);
  va_end(ap);
  dev->hal->event(dev->ctx, name, fields);
}

void m0__dev_log(struct m0_dev *dev, const char *message) {
  if (dev->hal->log != NULL)
    dev->hal->log(dev->ctx, message);
}

static void emit_drop(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind) {
  struct m0__drop *d = &dev->drops[kind];
  d->emitted = true;
  d->pending = false;
  d->last_ns = now;
  m0__dev_event(dev, "drop", "\"dir\":\"%s\",\"reason\":\"%s\",\"bytes\":%llu",
                drop_kinds[kind].dir, drop_kinds[kind].reason, (unsigned long long)d->total);
}

void m0__dev_drop(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind, size_t n) {
  struct m0__drop *d = &dev->drops[kind];
  d->total += n;
  if (!d->emitted || now - d->last_ns >= M0_NS_PER_S)
    emit_drop(dev, now, kind);
  else
    d->pending = true;
}

uint64_t m0__dev_char_ns(const struct m0_dev *dev, unsigned n) {
  const struct m0_config *c = &dev->running;
  uint64_t bits = m0_uart_bits_per_char(c->data_bits, c->stop_bits, c->parity);
  uint64_t baud = c->baud > 0 ? c->baud : 1;
  return (n * bits * M0_NS_PER_S + baud - 1) / baud;
}

/* ---- the COM heartbeat (spec §6.7): only while in transparent mode ---- */

static void heart_com(struct m0_dev *dev, uint64_t now, bool transparent) {
  if (dev->heart.target != M0__HEART_UART)
    return; /* NET follows the link (net.c) */
  if (transparent)
    m0__heart_start(&dev->heart, now); /* the first beat one period later */
  else
    m0__heart_stop(&dev->heart);
}

static void heart_beat(struct m0_dev *dev, uint64_t now) {
  struct m0__heart *h = &dev->heart;
  uint64_t due = m0__heart_next(h); /* the beat's own send moves it: keep it first */
  if (h->target == M0__HEART_UART) {
    /* Lost like any UART output when no host listens (pace.c counts it). */
    m0__host_send(dev, now, h->data, h->len);
    m0__dev_event(dev, "heart.sent", "\"to\":\"uart\",\"bytes\":%u", h->len);
  } else {
    m0__link_beat(dev, now);
  }
  m0__heart_beaten(h, due, now);
}

/* ---- boot and restart ---- */

void m0__dev_boot(struct m0_dev *dev, uint64_t now) {
  dev->started = true;
  dev->mode = M0_MODE_BOOTING;
  dev->boot_until = add_sat(now, dev->options.boot_ns);
}

static void finish_boot(struct m0_dev *dev, uint64_t now) {
  dev->boot_until = M0_TIME_NEVER;
  dev->running = dev->saved;
  dev->booted = dev->saved;
  dev->mode = M0_MODE_TRANSPARENT;
  m0__escape_reset(dev);
  m0__at_reset(dev);
  m0__host_reconfigure(dev, now);
  dev->hal->booted(dev->ctx, &dev->running);
  m0__dev_uart_config_event(dev, "\"cause\":\"restart\"");
  m0__dev_event(dev, "ready", "\"mode\":\"transparent\",\"proto\":\"%s\"",
                m0__dev_choice(M0_ID_SOCK, "proto", dev->running.proto));
  m0__dev_check_mismatch(dev);
  m0__heart_init(&dev->heart, &dev->running);
  heart_com(dev, now, true); /* transparent mode begins */
  m0__link_boot(dev, now);
}

void m0__dev_shutdown(struct m0_dev *dev, uint64_t now) {
  dev->restart.pending = false;
  dev->restart.deadline = M0_TIME_NEVER;
  m0__host_flush(dev, now, M0__DROP_TO_HOST_RESTART);
  m0__framer_discard(dev, now, M0__DROP_TO_NET_RESTART);
  m0__escape_reset(dev);
  m0__at_reset(dev);
  m0__heart_stop(&dev->heart); /* no beat of either kind while booting */
  m0__dev_net_restart(dev, now);
}

void m0__dev_restart_now(struct m0_dev *dev, uint64_t now, const char *cause) {
  char cause_json[64];
  if (dev->fault.off)
    return; /* nothing runs without power; the boot at power on reads flash anyway */
  dev->fault.hung = false; /* a reset ends a hang (the watchdog's, or one from outside) */
  dev->fault.hang_until = M0_TIME_NEVER;
  if (dev->save.busy) {
    /* The flash write in flight finishes first: its outcome is answered, then the
     * restart happens (m0_dev_on_flash_saved), and the boot reads the new flash. */
    dev->save.restart_wanted = true;
    snprintf(dev->save.restart_cause, sizeof dev->save.restart_cause, "%s",
             cause != NULL ? cause : "");
    return;
  }
  m0_json_string(cause_json, sizeof cause_json, cause != NULL ? cause : "");
  m0__dev_event(dev, "restart", "\"cause\":%s", cause_json);
  dev->counters.restarts++;
  m0__dev_shutdown(dev, now);
  m0__dev_boot(dev, now);
}

void m0__dev_restart_after_drain(struct m0_dev *dev, uint64_t now, const char *cause) {
  uint64_t drained = now;
  if (dev->fault.off)
    return; /* AT+RELD's write finished after the power went: the boot at power on */
  if (dev->options.timing == M0_TIMING_REAL && dev->txq.len > 0)
    drained = m0__pace_due(&dev->tx, dev->txq.len);
  dev->restart.pending = true;
  snprintf(dev->restart.cause, sizeof dev->restart.cause, "%s", cause);
  dev->restart.deadline = add_sat(drained, RESTART_DRAIN_SLACK_NS);
}

/* ---- modes ---- */

void m0__dev_enter_command(struct m0_dev *dev, uint64_t now) {
  m0__framer_flush(dev, now); /* what came before the +++ is a frame of its own */
  dev->mode = M0_MODE_COMMAND;
  m0__at_reset(dev);
  heart_com(dev, now, false);
  m0__dev_event(dev, "mode.command", "\"cause\":\"escape\"");
}

void m0__dev_enter_transparent(struct m0_dev *dev, uint64_t now, const char *cause) {
  dev->mode = M0_MODE_TRANSPARENT;
  m0__escape_reset(dev);
  heart_com(dev, now, true);
  m0__dev_event(dev, "mode.transparent", "\"cause\":\"%s\"", cause);
}

/* ---- deadlines ---- */

void m0__dev_catch_up(struct m0_dev *dev, uint64_t now) {
  /* Each step moves its deadline past `now` or clears it, so this ends; the bound is a
   * guard against a future step that does not. */
  int round;
  for (round = 0; round < 64; round++) {
    bool progress = false;
    int k;
    if (m0__fault_next(dev) <= now) {
      m0__fault_expire(dev, now);
      progress = true;
    }
    /* The line's pace and the drop reports go on while the firmware hangs (they are the
     * UART's and the emulator's, not the firmware's); nothing else does. */
    if (dev->rx_due <= now) {
      m0__host_rx_resume(dev, now);
      progress = true;
    }
    if (!m0__fault_frozen(dev)) {
      if (dev->boot_until <= now) {
        finish_boot(dev, now);
        progress = true;
      }
      if (dev->escape.deadline <= now) {
        m0__escape_expire(dev, now);
        progress = true;
      }
      if (dev->framer.deadline <= now) {
        m0__framer_expire(dev, now);
        progress = true;
      }
      if (dev->tx_due <= now) {
        m0__host_kick(dev, now);
        progress = true;
      }
      if (m0__link_next(dev) <= now) {
        m0__link_expire(dev, now);
        progress = true;
      }
      if (m0__heart_due(&dev->heart, now)) {
        heart_beat(dev, now);
        progress = true;
      }
    }
    for (k = 0; k < M0__DROP_COUNT; k++) {
      struct m0__drop *d = &dev->drops[k];
      if (d->pending && now - d->last_ns >= M0_NS_PER_S) {
        emit_drop(dev, now, (enum m0__drop_kind)k);
        progress = true;
      }
    }
    if (dev->restart.pending && !dev->save.busy && !m0__fault_frozen(dev) &&
        (dev->txq.len == 0 || dev->restart.deadline <= now)) {
      char cause[sizeof dev->restart.cause];
      memcpy(cause, dev->restart.cause, sizeof cause);
      m0__dev_restart_now(dev, now, cause);
      progress = true;
    }
    if (!progress)
      return;
  }
}

static void rearm(struct m0_dev *dev) {
  uint64_t when = m0__fault_next(dev);
  int k;
  when = min64(when, dev->rx_due);
  if (!m0__fault_frozen(dev)) {
    when = min64(when, dev->boot_until);
    when = min64(when, dev->escape.deadline);
    when = min64(when, dev->framer.deadline);
    when = min64(when, dev->tx_due);
    when = min64(when, m0__link_next(dev));
    when = min64(when, m0__heart_next(&dev->heart));
    if (dev->restart.pending && !dev->save.busy) /* else the save's outcome comes first */
      when = min64(when, dev->restart.deadline);
  }
  for (k = 0; k < M0__DROP_COUNT; k++) {
    if (dev->drops[k].pending)
      when = min64(when, add_sat(dev->drops[k].last_ns, M0_NS_PER_S));
  }
  if (when != dev->armed) {
    dev->armed = when;
    dev->hal->timer_arm(dev->ctx, when);
  }
}

void m0__dev_settle(struct m0_dev *dev, uint64_t now) {
  m0__dev_catch_up(dev, now);
  m0__link_settle(dev, now); /* network data on toward the host, links paused or not */
  m0__host_rx_flash(dev, m0__dev_flash_holds(dev)); /* the board reads again after the outcome */
  rearm(dev);
  m0__dev_check(dev, now); /* the end of every input (a no-op unless M0_CHECK_INVARIANTS) */
}

/* ---- public API ---- */

void m0_dev_init(struct m0_dev *dev, const struct m0_hal *hal, void *ctx,
                 const struct m0_dev_options *options, const struct m0_config *saved) {
  /* The state only: the buffers behind it are never read past their lengths, and
   * leaving them unwritten keeps an idle device's untouched pages free (dev_internal.h). */
  memset(dev, 0, offsetof(struct m0_dev, bufs));
  dev->hal = hal;
  dev->ctx = ctx;
  dev->options = *options;
  if (options->factory_settings != NULL)
    dev->factory_settings = *options->factory_settings;
  else
    m0_config_defaults(&dev->factory_settings);
  dev->options.factory_settings = NULL; /* the caller's copy may go: read the device's */
  dev->saved = *saved;
  dev->running = *saved;
  dev->booted = *saved;
  dev->mode = M0_MODE_BOOTING;
  dev->boot_until = M0_TIME_NEVER;
  dev->armed = M0_TIME_NEVER;
  dev->restart.deadline = M0_TIME_NEVER;
  dev->tx_due = M0_TIME_NEVER;
  dev->rx_due = M0_TIME_NEVER;
  dev->rx_enabled = true; /* the board reads from the start */
  dev->escape.deadline = M0_TIME_NEVER;
  dev->framer.deadline = M0_TIME_NEVER;
  m0__heart_init(&dev->heart, &dev->running); /* stopped until the boot ends */
  m0__link_init(dev);
  m0__fault_init(dev);
  m0__host_reconfigure(dev, 0);
}

void m0_dev_start(struct m0_dev *dev, uint64_t now) {
  m0__host_reconfigure(dev, now);
  m0__dev_boot(dev, now);
  m0__dev_settle(dev, now);
}

void m0_dev_restart(struct m0_dev *dev, uint64_t now, const char *cause) {
  m0__dev_catch_up(dev, now);
  if (dev->fault.off)
    m0__dev_log(dev, "restart: the power is off; nothing happens");
  m0__dev_restart_now(dev, now, cause);
  m0__dev_settle(dev, now);
}

size_t m0_dev_uart_rx_budget(struct m0_dev *dev, uint64_t now) {
  size_t n;
  m0__dev_catch_up(dev, now);
  /* What just ran may have left network bytes for the host (a similar-RFC2217 hold that
   * expired): they move on now, as at the end of any input, not at some later one. */
  m0__link_settle(dev, now);
  n = m0__host_rx_budget(dev, now);
  rearm(dev);
  m0__dev_check(dev, now);
  return n;
}

/* A terminal sends CR LF: the LF of the AT+ENTM line must not become network data. */
#define ENTM_LF_WINDOW_NS (100 * M0_NS_PER_MS)

static void transparent_input(struct m0_dev *dev, uint64_t now, uint8_t c) {
  if (dev->at.after_cr) {
    dev->at.after_cr = false;
    if (c == '\n' && now - dev->at.cr_ns <= ENTM_LF_WINDOW_NS)
      return;
  }
  m0__escape_input(dev, now, c);
}

/* Keep host bytes for after the save in flight, in order, the line's faults applied as
 * they arrived. Beyond M0__HELD_MAX (a caller that does not stop reading) they are lost
 * and counted. */
static void hold(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len,
                 bool faults) {
  struct m0__save *s = &dev->save;
  size_t i, room = M0__HELD_MAX - s->held_len, n = len < room ? len : room;
  for (i = 0; i < n; i++)
    dev->bufs.held[s->held_len++] = faults ? (uint8_t)(data[i] ^ 0x55) : data[i];
  if (n < len) {
    dev->counters.uart_rx_dropped += len - n;
    m0__dev_drop(dev, now, M0__DROP_FROM_HOST_FLASH_BUSY, len - n);
  }
}

/* Host bytes in order, by mode. fresh: just read (the line's faults still to apply);
 * else held bytes let go after a save, which had them applied on arrival. */
static void uart_input(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len,
                       bool fresh) {
  size_t i, booting = 0, restarting = 0;
  bool faults = fresh && dev->options.line_faults && dev->mismatch;
  for (i = 0; i < len; i++) {
    uint8_t c = data[i];
    if (faults)
      c ^= 0x55; /* the same transform as toward the host (pace.c) */
    if (dev->mode == M0_MODE_BOOTING) {
      booting++;
    } else if (dev->restart.pending) {
      restarting++;
    } else if (m0__dev_flash_holds(dev) || dev->save.held_len > 0) {
      hold(dev, now, data + i, len - i, faults);
      dev->have_last_rx = true;
      dev->last_rx = now;
      break;
    } else if (dev->mode == M0_MODE_TRANSPARENT) {
      transparent_input(dev, now, c);
    } else {
      m0__at_input(dev, now, c);
    }
    dev->have_last_rx = true;
    dev->last_rx = now;
    /* The rest of one read arrives together, with no idle gap before any of it, so none
     * of it can start a +++ handshake: while none is in progress it is plain data, and
     * goes to the framer in one piece instead of byte by byte (the throughput of a
     * pty-to-network stream depends on it). */
    if (i + 1 < len && dev->mode == M0_MODE_TRANSPARENT && !dev->restart.pending &&
        dev->escape.state == M0__ESC_IDLE && !dev->at.after_cr && !faults) {
      m0__framer_push(dev, now, data + i + 1, len - i - 1);
      break;
    }
  }
  dev->counters.uart_rx_dropped += booting + restarting;
  if (booting > 0)
    m0__dev_drop(dev, now, M0__DROP_FROM_HOST_BOOTING, booting);
  if (restarting > 0)
    m0__dev_drop(dev, now, M0__DROP_FROM_HOST_RESTARTING, restarting);
}

/* After a save: the bytes that waited go on as if they arrived now, until one of them
 * starts another save (the rest then waits for that one). */
void m0__dev_release_held(struct m0_dev *dev, uint64_t now) {
  struct m0__save *s = &dev->save;
  size_t n = s->held_len, i;
  s->held_len = 0;
  /* One byte at a time, so the check comes before each and nothing is held twice. */
  for (i = 0; i < n && !m0__dev_flash_holds(dev); i++)
    uart_input(dev, now, &dev->bufs.held[i], 1, false);
  if (i < n) {
    memmove(dev->bufs.held, dev->bufs.held + i, n - i);
    s->held_len = n - i;
  }
}

void m0_dev_on_uart_rx(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  m0__dev_catch_up(dev, now);
  if (dev->fault.off || dev->fault.hung) { /* nobody takes them: overrun, lost */
    dev->counters.uart_rx_dropped += len;
    if (len > 0)
      m0__dev_drop(dev, now, dev->fault.off ? M0__DROP_FROM_HOST_OFF : M0__DROP_FROM_HOST_HANG, len);
    m0__dev_settle(dev, now);
    return;
  }
  dev->counters.uart_rx += len;
  m0__host_rx_take(dev, now, len); /* line time, whatever noise does to the bytes */
  if (m0__fault_line_active(dev, M0_UART_FROM_HOST)) {
    uint8_t heard[512];
    uint16_t from[512];
    size_t i, j, lost = 0, corrupted = 0;
    for (i = 0; i < len; i += sizeof heard) {
      size_t k = len - i < sizeof heard ? len - i : sizeof heard;
      size_t n = m0__fault_line(dev, now, M0_UART_FROM_HOST, data + i, k, heard, from);
      lost += k - n;
      for (j = 0; j < n; j++)
        corrupted += heard[j] != data[i + from[j]];
      uart_input(dev, now, heard, n, true);
    }
    m0__fault_line_count(dev, M0_UART_FROM_HOST, corrupted, lost);
    if (lost > 0) {
      dev->counters.uart_rx_dropped += lost;
      m0__dev_drop(dev, now, M0__DROP_FROM_HOST_LOSS, lost);
    }
  } else {
    uart_input(dev, now, data, len, true);
  }
  if (dev->options.timing == M0_TIMING_FAST)
    m0__framer_flush(dev, now); /* fast: one read from the pty is one frame */
  m0__dev_settle(dev, now);
}

void m0_dev_on_uart_writable(struct m0_dev *dev, uint64_t now) {
  m0__dev_catch_up(dev, now);
  if (dev->stalled) {
    dev->stalled = false;
    if (dev->options.timing == M0_TIMING_REAL)
      m0__pace_cap(&dev->tx, now); /* the line stood still: no burst */
  }
  m0__host_kick(dev, now);
  m0__dev_settle(dev, now);
}

void m0_dev_on_host_attach(struct m0_dev *dev, uint64_t now, bool attached) {
  m0__dev_catch_up(dev, now);
  if (attached != dev->attached) {
    dev->attached = attached;
    dev->stalled = false;
    if (!attached)
      m0__host_flush(dev, now, M0__DROP_TO_HOST_NO_HOST);
    else
      m0__at_reset(dev); /* a line the last host left unfinished is not the new one's */
  }
  if (attached) {
    /* A new host: its line is its own, unknown until its front end reports it (a pty
     * at once; a raw network client never, so it never mismatches). */
    dev->have_host_termios = false;
    dev->host_format_known = false;
    dev->mismatch = false;
    dev->mismatch_reported = false;
  }
  m0__dev_settle(dev, now);
}

void m0_dev_on_timer(struct m0_dev *dev, uint64_t now) {
  dev->armed = M0_TIME_NEVER; /* the board's timer is one-shot: it is spent */
  m0__dev_settle(dev, now);
}

const struct m0_config *m0_dev_running(const struct m0_dev *dev) { return &dev->running; }

enum m0_mode m0_dev_mode(const struct m0_dev *dev) { return dev->mode; }

const char *m0_mode_name(enum m0_mode mode) {
  switch (mode) {
  case M0_MODE_BOOTING:
    return "booting";
  case M0_MODE_TRANSPARENT:
    return "transparent";
  case M0_MODE_COMMAND:
    return "command";
  }
  return "unknown";
}

const struct m0_counters *m0_dev_counters(const struct m0_dev *dev) {
  return &dev->counters;
}

void m0_dev_status(const struct m0_dev *dev, struct m0_status *out) {
  memset(out, 0, sizeof *out);
  out->mode = dev->mode;
  out->socket_connected = m0__dev_socket_connected(dev);
  /* SCSLINK=off: the pin shows the Ethernet link, up in the emulator but with its cable
   * pulled (fault.c). */
  out->link_pin = m0__link_pin(dev);
  m0__link_status(dev, out);
  out->counters = dev->counters;
  out->host_attached = dev->attached;
  out->host_line_known = dev->have_host_termios;
  out->host_baud = dev->host_baud;
  out->host_stop = dev->host_stop;
  out->uart_mismatch = dev->have_host_termios && dev->mismatch;
  out->saving = dev->save.busy;
  out->restart_pending = dev->restart.pending;
}
