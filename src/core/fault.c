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
 * The generator of noise and loss is splitmix64: 64 bits of state, a full period, every
 * seed good, and nothing but additions, shifts and multiplications.
 */
#include <string.h>

#include "core.h"

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
  memset(&dev->fault, 0, sizeof dev->fault);
  dev->fault.on_at = M0_TIME_NEVER;
  dev->fault.rng = DEFAULT_SEED;
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
  m0__dev_shutdown(dev, now);
  if (dev->save.held_len > 0) { /* typed before the cut, waiting for a save: lost */
    dev->counters.uart_rx_dropped += dev->save.held_len;
    m0__dev_drop(dev, now, M0__DROP_RX_OFF, dev->save.held_len);
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
    rc = M0_ERR_STATE;
  else if (on)
    power_on(dev, now);
  else
    power_off(dev, now, for_ns);
  m0__dev_settle(dev, now);
  return rc;
}

bool m0_dev_powered(const struct m0_dev *dev) { return !dev->fault.off; }

/* ---- the generator ---- */

void m0_dev_fault_seed(struct m0_dev *dev, uint64_t seed) { dev->fault.rng = seed; }

/* ---- deadlines ---- */

uint64_t m0__fault_next(const struct m0_dev *dev) {
  const struct m0__faults *f = &dev->fault;
  return f->off ? f->on_at : M0_TIME_NEVER;
}

void m0__fault_expire(struct m0_dev *dev, uint64_t now) {
  struct m0__faults *f = &dev->fault;
  if (f->off && f->on_at <= now)
    power_on(dev, now);
}

void m0_dev_fault_status(const struct m0_dev *dev, struct m0_fault_status *out) {
  const struct m0__faults *f = &dev->fault;
  memset(out, 0, sizeof *out);
  out->off = f->off;
  out->off_since = f->off_since;
  out->on_at = f->off ? f->on_at : M0_TIME_NEVER;
}
