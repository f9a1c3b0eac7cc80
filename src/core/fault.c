/* fault.c: faults on demand (include/m0/fault.h, docs/faults.md): what the device does
 * when a test cuts its power, pulls its cable, hangs its firmware, makes its lines noisy
 * or its flash fail. The policy is here so that it runs on the virtual clock; the board
 * carries the requests and does the one OS thing a fault needs, a reset (link_abort).
 *
 * Power: a cut keeps nothing of the running device (a restart's shutdown, without the
 * boot) but flash. Its TCP connections are not closed: a module without power sends no
 * FIN, so the board keeps those sockets, paused and forgotten by the device ("orphans",
 * one bit per link id), and the peers meet silence; at power on they are reset (RST) as
 * the new boot's stack would answer their next segment, then the device boots. Listening
 * and UDP sockets close at the cut (a connect meets a refusal rather than silence: the
 * port is the host's, not the module's). A save in flight still completes (the file is
 * the board's), and what it commits is what the next boot reads; its reply is lost.
 *
 * The cable: while it is out nothing moves on the network and the device closes nothing.
 * TCP links are paused (flow.c), so the peers' bytes wait in their own stacks and come
 * at re-plug; what the device sends waits, in order, in one 16 KiB queue of held sends
 * (fault_net.c); datagrams both ways are lost. A dial is not given to
 * the board (on loopback it would connect at once): it fails after the board's own
 * connect timeout (10 s), unless the cable comes back first, when it goes to the board
 * as a SYN retried in time would. At re-plug the held sends go, or, after an unplug of
 * reset_after (60 s by default) or more, every TCP connection is reset instead, as a
 * stack that ran out of retries has forgotten it (its peer meets RST).
 *
 * A hang freezes the firmware: none of its deadlines run (the line's receive pace and
 * the drop reports do: they are the UART's and the emulator's), nothing is written to
 * the host, host bytes are dropped, the network is cut as by a pulled cable. At its end
 * the watchdog restarts the device after resetting its TCP connections.
 *
 * This file takes the requests, keeps their windows and deadlines and does power, cable,
 * hang and flash; fault_net.c applies impairment and cuts to the traffic, fault_line.c
 * noise to the serial line (and holds the generator of noise and loss).
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "m0/json.h"

#define DEFAULT_SEED 1u

static uint64_t add_sat(uint64_t a, uint64_t b) {
  return a > M0_TIME_NEVER - b ? M0_TIME_NEVER : a + b;
}

static bool is_tcp_connection(const struct m0__link *l) {
  return l->role == M0__LINK_TCPC || l->role == M0__LINK_CLIENT || l->role == M0__LINK_HTTP;
}

/* A reset the device's stack would cause: link_abort, or a close on a HAL without it. */
static void abort_link(struct m0_dev *dev, unsigned id) {
  if (dev->hal->link_abort != NULL)
    dev->hal->link_abort(dev->ctx, id);
  else
    dev->hal->link_close(dev->ctx, id);
}

void m0__fault_init(struct m0_dev *dev) {
  struct m0__faults *f = &dev->fault;
  unsigned id;
  memset(f, 0, sizeof *f);
  f->on_at = M0_TIME_NEVER;
  f->plug_at = M0_TIME_NEVER;
  f->hang_until = M0_TIME_NEVER;
  f->reset_after = M0_CABLE_RESET_AFTER_NS;
  for (id = 0; id < M0_LINKS_MAX; id++)
    f->dial_until[id] = M0_TIME_NEVER;
  f->rng = DEFAULT_SEED;
  f->line[0].until = f->line[1].until = M0_TIME_NEVER;
  f->net[0].until = f->net[1].until = M0_TIME_NEVER;
  f->flash_until = M0_TIME_NEVER;
}

/* ---- dials into a pulled cable ---- */

/* "host:port" as a JSON string, as the board writes peers. */
static void peer_json(char *out, size_t cap, const struct m0_net_addr *a) {
  char text[M0_SOCK_ADDR_MAX + 16];
  snprintf(text, sizeof text, "%s:%u", a->host, (unsigned)a->port);
  m0_json_string(out, cap, text);
}

bool m0__fault_dial_void(struct m0_dev *dev, uint64_t now, unsigned id,
                         const struct m0_link_open *request) {
  struct m0__faults *f = &dev->fault;
  char peer[96];
  if (!m0__fault_net_cut(dev))
    return false;
  f->dial_until[id] = add_sat(now, M0_CABLE_DIAL_TIMEOUT_NS);
  f->dial_req[id] = *request;
  peer_json(peer, sizeof peer, &request->peer);
  m0__dev_event(dev, "net.connecting", "\"link\":%u,\"peer\":%s,\"cable\":\"unplugged\"", id,
                peer);
  return true;
}

void m0__fault_link_freed(struct m0_dev *dev, unsigned id) {
  dev->fault.dial_until[id] = M0_TIME_NEVER;
}

static void dial_timed_out(struct m0_dev *dev, uint64_t now, unsigned id) {
  char peer[96];
  peer_json(peer, sizeof peer, &dev->fault.dial_req[id].peer);
  dev->fault.dial_until[id] = M0_TIME_NEVER;
  m0__dev_event(dev, "net.refused",
                "\"link\":%u,\"peer\":%s,\"error\":\"connection timed out\","
                "\"cable\":\"unplugged\"",
                id, peer);
  m0__link_lost(dev, now, id, M0_DOWN_TIMEOUT);
}

/* The cable is back before the dial timed out: the board dials now. */
static void dial_for_real(struct m0_dev *dev, uint64_t now, unsigned id) {
  struct m0_link_open req = dev->fault.dial_req[id];
  dev->fault.dial_until[id] = M0_TIME_NEVER;
  if (dev->hal->link_open(dev->ctx, id, &req) < 0)
    m0__link_lost(dev, now, id, M0_DOWN_REFUSED);
}

/* ---- resets ---- */

/* Reset every TCP connection (the listener stays): the board sends RST, the device sees
 * each go down as reset. Returns how many. */
static unsigned reset_connections(struct m0_dev *dev, uint64_t now, const char *cause) {
  unsigned id, n = 0;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    struct m0__link *l = &dev->net.link[id];
    if (!is_tcp_connection(l) || dev->fault.dial_until[id] != M0_TIME_NEVER)
      continue; /* (a dial into the void has nothing to reset) */
    if (l->up)
      n++;
    abort_link(dev, id);
    m0__link_lost(dev, now, id, M0_DOWN_RESET);
  }
  if (n > 0)
    m0__dev_event(dev, "net.reset", "\"links\":%u,\"cause\":\"%s\"", n, cause);
  return n;
}

/* ---- power ---- */

static void power_off(struct m0_dev *dev, uint64_t now, uint64_t for_ns) {
  struct m0__faults *f = &dev->fault;
  unsigned id;
  if (for_ns > 0)
    m0__dev_event(dev, "power", "\"state\":\"off\",\"for_ms\":%llu",
                  (unsigned long long)(for_ns / M0_NS_PER_MS));
  else
    m0__dev_event(dev, "power", "\"state\":\"off\"");
  for (id = 0; id < M0_LINKS_MAX; id++) {
    struct m0__link *l = &dev->net.link[id];
    if (!is_tcp_connection(l) || !l->up)
      continue; /* a dial under way just dies with the rest */
    if (!l->paused)
      dev->hal->link_pause(dev->ctx, id, true);
    f->orphans |= (uint16_t)(1u << id);
    m0__link_forget(dev, id);
  }
  f->hung = false; /* a power cut ends a hang, and a pulled cable means nothing now */
  f->hang_until = M0_TIME_NEVER;
  m0__dev_shutdown(dev, now);
  if (dev->save.held_len > 0) { /* typed before the cut, waiting for a save: lost */
    dev->counters.uart_rx_dropped += dev->save.held_len;
    m0__dev_drop(dev, now, M0__DROP_FROM_HOST_OFF, dev->save.held_len);
    dev->save.held_len = 0;
  }
  dev->save.restart_wanted = false;
  dev->mode = M0_MODE_BOOTING;
  dev->boot_until = M0_TIME_NEVER;
  f->off = true;
  f->off_since = now;
  f->on_at = for_ns > 0 ? add_sat(now, for_ns) : M0_TIME_NEVER;
}

static void power_on(struct m0_dev *dev, uint64_t now) {
  struct m0__faults *f = &dev->fault;
  unsigned id;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    if (f->orphans & (1u << id))
      abort_link(dev, id);
  }
  f->orphans = 0;
  f->off = false;
  f->on_at = M0_TIME_NEVER;
  m0__dev_event(dev, "power", "\"state\":\"on\",\"off_ms\":%llu",
                (unsigned long long)((now - f->off_since) / M0_NS_PER_MS));
  m0__host_reconfigure(dev, now);
  m0__dev_boot(dev, now);
}

int m0_dev_power(struct m0_dev *dev, uint64_t now, bool on, uint64_t for_ns) {
  int rc = 0;
  m0__dev_catch_up(dev, now);
  if (on == !dev->fault.off)
    rc = M0_E_STATE;
  else if (on)
    power_on(dev, now);
  else
    power_off(dev, now, for_ns);
  m0__dev_settle(dev, now);
  return rc;
}

bool m0_dev_powered(const struct m0_dev *dev) { return !dev->fault.off; }

/* ---- the cable ---- */

static void unplug(struct m0_dev *dev, uint64_t now, uint64_t for_ns, uint64_t reset_after) {
  struct m0__faults *f = &dev->fault;
  f->unplugged = true;
  f->unplugged_since = now;
  f->plug_at = for_ns > 0 ? add_sat(now, for_ns) : M0_TIME_NEVER;
  f->reset_after = reset_after > 0 ? reset_after : M0_CABLE_RESET_AFTER_NS;
  if (for_ns > 0)
    m0__dev_event(dev, "cable", "\"state\":\"unplugged\",\"for_ms\":%llu,\"reset_after_ms\":%llu",
                  (unsigned long long)(for_ns / M0_NS_PER_MS),
                  (unsigned long long)(f->reset_after / M0_NS_PER_MS));
  else
    m0__dev_event(dev, "cable", "\"state\":\"unplugged\",\"reset_after_ms\":%llu",
                  (unsigned long long)(f->reset_after / M0_NS_PER_MS));
  m0__link_socket_event(dev); /* the link pin drops */
}

static void plug(struct m0_dev *dev, uint64_t now) {
  struct m0__faults *f = &dev->fault;
  uint64_t down = now - f->unplugged_since;
  bool reset = down >= f->reset_after;
  unsigned id;
  f->unplugged = false;
  f->plug_at = M0_TIME_NEVER;
  m0__dev_event(dev, "cable", "\"state\":\"plugged\",\"down_ms\":%llu,\"reset\":%s",
                (unsigned long long)(down / M0_NS_PER_MS), reset ? "true" : "false");
  if (f->hung)
    return; /* the watchdog's restart comes first; it resets and forgets everything */
  if (reset) {
    m0__fault_net_restart(dev, now); /* what was held belonged to those connections */
    reset_connections(dev, now, "cable");
  }
  for (id = 0; id < M0_LINKS_MAX; id++)
    if (f->dial_until[id] != M0_TIME_NEVER)
      dial_for_real(dev, now, id);
  m0__fault_release(dev, now);
  m0__link_socket_event(dev); /* the link pin is back */
}

int m0_dev_fault_cable(struct m0_dev *dev, uint64_t now, bool plugged, uint64_t for_ns,
                       uint64_t reset_after_ns) {
  int rc = 0;
  m0__dev_catch_up(dev, now);
  if (plugged == !dev->fault.unplugged) /* (the power does not matter: it is a cable) */
    rc = M0_E_STATE;
  else if (plugged)
    plug(dev, now);
  else
    unplug(dev, now, for_ns, reset_after_ns);
  m0__dev_settle(dev, now);
  return rc;
}

/* ---- noise, impairment, flash: faults with parameters and a window ---- */

static const char *const line_dirs[] = {"to_host", "from_host"};
static const char *const net_dirs[] = {"to_net", "from_net"};

static void cleared(struct m0_dev *dev, const char *fault, const char *dir, const char *cause) {
  if (dir != NULL)
    m0__dev_event(dev, "fault.cleared", "\"fault\":\"%s\",\"dir\":\"%s\",\"cause\":\"%s\"",
                  fault, dir, cause);
  else
    m0__dev_event(dev, "fault.cleared", "\"fault\":\"%s\",\"cause\":\"%s\"", fault, cause);
}

/* ",\"for_ms\":N" or "". */
static void for_field(char *buf, size_t cap, uint64_t for_ns) {
  if (for_ns > 0)
    snprintf(buf, cap, ",\"for_ms\":%llu", (unsigned long long)(for_ns / M0_NS_PER_MS));
  else
    buf[0] = '\0';
}

int m0_dev_fault_uart(struct m0_dev *dev, uint64_t now, enum m0_uart_dir dir,
                      const struct m0_uart_noise *noise, uint64_t for_ns) {
  struct m0__fault_line *l;
  char window[48];
  if ((unsigned)dir > M0_UART_FROM_HOST || noise->bit_error_ppb > M0_PPB ||
      noise->loss_ppb > M0_PPB)
    return M0_E_INVAL;
  m0__dev_catch_up(dev, now);
  l = &dev->fault.line[dir];
  if (noise->bit_error_ppb == 0 && noise->loss_ppb == 0) {
    bool was = m0__fault_line_active(dev, dir);
    memset(l, 0, sizeof *l);
    l->until = M0_TIME_NEVER;
    if (was)
      cleared(dev, "uart", line_dirs[dir], "cleared");
  } else {
    memset(l, 0, sizeof *l);
    l->noise = *noise;
    l->until = for_ns > 0 ? add_sat(now, for_ns) : M0_TIME_NEVER;
    for_field(window, sizeof window, for_ns);
    m0__dev_event(dev, "fault.set",
                  "\"fault\":\"uart\",\"dir\":\"%s\",\"bit_error_ppb\":%lu,\"loss_ppb\":%lu%s",
                  line_dirs[dir], (unsigned long)noise->bit_error_ppb,
                  (unsigned long)noise->loss_ppb, window);
  }
  m0__dev_settle(dev, now);
  return 0;
}

int m0_dev_fault_net(struct m0_dev *dev, uint64_t now, enum m0_net_dir dir,
                     const struct m0_net_impair *impair, uint64_t for_ns) {
  struct m0__fault_net *n;
  char window[48];
  if ((unsigned)dir > M0_NET_FROM_NET || impair->loss_ppb > M0_PPB ||
      impair->rate > M0_NET_RATE_MAX)
    return M0_E_INVAL;
  m0__dev_catch_up(dev, now);
  n = &dev->fault.net[dir];
  bool was = m0__fault_impaired(n);
  memset(n, 0, sizeof *n);
  n->until = M0_TIME_NEVER;
  if (impair->delay_ns == 0 && impair->jitter_ns == 0 && impair->loss_ppb == 0 &&
      impair->rate == 0) {
    if (was)
      cleared(dev, "net", net_dirs[dir], "cleared");
  } else {
    n->impair = *impair;
    n->until = for_ns > 0 ? add_sat(now, for_ns) : M0_TIME_NEVER;
    if (impair->rate != 0)
      m0__pace_init(&n->pace, now, impair->rate, 1); /* "baud" = bytes/s at 1 bit a byte */
    for_field(window, sizeof window, for_ns);
    m0__dev_event(dev, "fault.set",
                  "\"fault\":\"net\",\"dir\":\"%s\",\"delay_ms\":%llu,\"jitter_ms\":%llu,"
                  "\"loss_ppb\":%lu,\"rate\":%lu%s",
                  net_dirs[dir], (unsigned long long)(impair->delay_ns / M0_NS_PER_MS),
                  (unsigned long long)(impair->jitter_ns / M0_NS_PER_MS),
                  (unsigned long)impair->loss_ppb, (unsigned long)impair->rate, window);
  }
  m0__dev_settle(dev, now);
  return 0;
}

int m0_dev_fault_net_reset(struct m0_dev *dev, uint64_t now) {
  int n;
  m0__dev_catch_up(dev, now);
  n = dev->fault.off ? M0_E_STATE : (int)reset_connections(dev, now, "fault");
  m0__dev_settle(dev, now);
  return n;
}

int m0_dev_fault_flash(struct m0_dev *dev, uint64_t now, uint32_t fail_next, bool full,
                       uint64_t for_ns) {
  struct m0__faults *f = &dev->fault;
  char window[48];
  m0__dev_catch_up(dev, now);
  bool was = f->flash_fail > 0 || f->flash_full;
  f->flash_fail = fail_next;
  f->flash_full = full;
  f->flash_failed = 0;
  f->flash_until = M0_TIME_NEVER;
  if (fail_next == 0 && !full) {
    if (was)
      cleared(dev, "flash", NULL, "cleared");
  } else {
    f->flash_until = for_ns > 0 ? add_sat(now, for_ns) : M0_TIME_NEVER;
    for_field(window, sizeof window, for_ns);
    m0__dev_event(dev, "fault.set", "\"fault\":\"flash\",\"fail_next\":%lu,\"full\":%s%s",
                  (unsigned long)fail_next, full ? "true" : "false", window);
  }
  m0__dev_settle(dev, now);
  return 0;
}

bool m0__fault_flash_refuses(struct m0_dev *dev) {
  struct m0__faults *f = &dev->fault;
  if (f->flash_full) {
    f->flash_failed++;
    m0__dev_event(dev, "flash.error", "\"error\":\"ENOSPC\",\"fault\":\"full\"");
    return true;
  }
  if (f->flash_fail == 0)
    return false;
  f->flash_fail--;
  f->flash_failed++;
  m0__dev_event(dev, "flash.error", "\"error\":\"EIO\",\"fault\":\"fail\",\"left\":%lu",
                (unsigned long)f->flash_fail);
  if (f->flash_fail == 0) {
    f->flash_until = M0_TIME_NEVER;
    cleared(dev, "flash", NULL, "used");
  }
  return true;
}

/* A window that ended. */
static void windows_expire(struct m0_dev *dev, uint64_t now) {
  struct m0__faults *f = &dev->fault;
  unsigned d;
  for (d = 0; d < 2; d++) {
    if (f->line[d].until <= now) {
      memset(&f->line[d], 0, sizeof f->line[d]);
      f->line[d].until = M0_TIME_NEVER;
      cleared(dev, "uart", line_dirs[d], "timeout");
    }
    if (f->net[d].until <= now) {
      memset(&f->net[d], 0, sizeof f->net[d]);
      f->net[d].until = M0_TIME_NEVER;
      cleared(dev, "net", net_dirs[d], "timeout");
    }
  }
  if (f->flash_until <= now) {
    f->flash_fail = 0;
    f->flash_full = false;
    f->flash_until = M0_TIME_NEVER;
    cleared(dev, "flash", NULL, "timeout");
  }
}

/* ---- a hang ---- */

int m0_dev_fault_hang(struct m0_dev *dev, uint64_t now, uint64_t for_ns) {
  struct m0__faults *f = &dev->fault;
  if (for_ns == 0)
    return M0_E_INVAL;
  m0__dev_catch_up(dev, now);
  if (f->off || f->hung) {
    m0__dev_settle(dev, now);
    return M0_E_STATE;
  }
  f->hung = true;
  f->hung_since = now;
  f->hang_until = add_sat(now, for_ns);
  m0__dev_event(dev, "hang", "\"for_ms\":%llu", (unsigned long long)(for_ns / M0_NS_PER_MS));
  m0__dev_settle(dev, now);
  return 0;
}

static void watchdog(struct m0_dev *dev, uint64_t now) {
  struct m0__faults *f = &dev->fault;
  unsigned id;
  f->hung = false;
  f->hang_until = M0_TIME_NEVER;
  for (id = 0; id < M0_LINKS_MAX; id++) /* dials into the void die with the rest */
    f->dial_until[id] = M0_TIME_NEVER;
  reset_connections(dev, now, "watchdog");
  m0__dev_restart_now(dev, now, "watchdog");
}

/* ---- the generator (fault_line.c) ---- */

void m0_dev_fault_seed(struct m0_dev *dev, uint64_t seed) { dev->fault.rng = seed; }

/* ---- deadlines ---- */

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t m0__fault_next(const struct m0_dev *dev) {
  const struct m0__faults *f = &dev->fault;
  uint64_t when = M0_TIME_NEVER;
  unsigned id;
  if (f->off)
    when = min64(when, f->on_at);
  if (f->unplugged)
    when = min64(when, f->plug_at);
  when = min64(when, f->line[0].until);
  when = min64(when, f->line[1].until);
  when = min64(when, f->net[0].until);
  when = min64(when, f->net[1].until);
  when = min64(when, f->flash_until);
  if (f->hung)
    return min64(when, f->hang_until); /* the firmware's own deadlines wait */
  for (id = 0; id < M0_LINKS_MAX; id++)
    when = min64(when, f->dial_until[id]);
  if (f->txq.rlen > 0 && !m0__fault_net_cut(dev))
    when = min64(when, m0__fault_release_due(dev));
  return min64(when, m0__fault_inbox_due(dev));
}

void m0__fault_expire(struct m0_dev *dev, uint64_t now) {
  struct m0__faults *f = &dev->fault;
  unsigned id;
  if (f->off && f->on_at <= now)
    power_on(dev, now);
  if (f->unplugged && f->plug_at <= now)
    plug(dev, now);
  windows_expire(dev, now);
  if (f->hung && f->hang_until <= now)
    watchdog(dev, now);
  if (f->hung)
    return;
  for (id = 0; id < M0_LINKS_MAX; id++)
    if (f->dial_until[id] <= now)
      dial_timed_out(dev, now, id);
  m0__fault_release(dev, now);
  if (m0__fault_inbox_due(dev) <= now)
    m0__flow_settle(dev, now); /* what the marks or the rate held moves on */
}

void m0_dev_fault_status(const struct m0_dev *dev, struct m0_fault_status *out) {
  const struct m0__faults *f = &dev->fault;
  memset(out, 0, sizeof *out);
  out->off = f->off;
  out->off_since = f->off_since;
  out->on_at = f->off ? f->on_at : M0_TIME_NEVER;
  out->unplugged = f->unplugged;
  out->unplugged_since = f->unplugged_since;
  out->plug_at = f->unplugged ? f->plug_at : M0_TIME_NEVER;
  out->reset_after = f->reset_after;
  out->hung = f->hung;
  out->hung_since = f->hung_since;
  out->hang_until = f->hung ? f->hang_until : M0_TIME_NEVER;
  out->held_bytes = f->txq.end - f->txq.start;
  for (unsigned d = 0; d < 2; d++) {
    out->uart[d].noise = f->line[d].noise;
    out->uart[d].until = f->line[d].until;
    out->uart[d].corrupted = f->line[d].corrupted;
    out->uart[d].lost = f->line[d].lost;
    out->net[d].impair = f->net[d].impair;
    out->net[d].until = f->net[d].until;
    out->net[d].lost = f->net[d].lost;
  }
  out->flash.fail_next = f->flash_fail;
  out->flash.full = f->flash_full;
  out->flash.until = f->flash_until;
  out->flash.failed = f->flash_failed;
}
