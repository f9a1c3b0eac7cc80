/* control_fault.c: the control channel's fault commands (docs/control.md, docs/faults.md)
 * and the faults' part of `status`: power, the Ethernet cable, a firmware hang, noise on
 * the serial line, an impaired network, flash that fails, and their end.
 *
 * Each handler turns its checked arguments (control_cmd.c checked them against this
 * file's table piece: seconds to the nanosecond, at most a day; probabilities in parts
 * per billion) into one of the core's fault inputs (include/m0/fault.h) at the loop's
 * clock; the policy (what a pulled cable does to a connection, when the watchdog bites)
 * is the core's. A fault that is already so (the cable already out) is refused with the
 * core's error code, so a script learns it asked for nothing.
 */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "control_cmd.h"

/* ---- the faults in status ---- */

static unsigned long long ms_of(uint64_t ns) { return (unsigned long long)(ns / M0_NS_PER_MS); }

/* A deadline as milliseconds on the event stream's clock (null: none). */
static void deadline(struct m0__jbuf *b, const struct m0__board *bd, uint64_t when) {
  if (when == M0_TIME_NEVER) {
    M0__JB_LIT(b, "null");
    return;
  }
  uint64_t start = bd->events.sink->start_ns;
  m0__jb_printf(b, "%llu", when > start ? ms_of(when - start) : 0ull);
}

void m0__ctl_faults(struct m0__jbuf *b, const struct m0__board *bd) {
  struct m0_fault_status f;
  m0_dev_fault_status(&bd->dev, &f);
  m0__jb_printf(b, "{\"power\":{\"on\":%s", f.off ? "false" : "true");
  if (f.off) {
    M0__JB_LIT(b, ",\"off_since_ms\":");
    deadline(b, bd, f.off_since);
    M0__JB_LIT(b, ",\"on_at_ms\":");
    deadline(b, bd, f.on_at);
  }
  m0__jb_printf(b, "},\"cable\":{\"plugged\":%s", f.unplugged ? "false" : "true");
  if (f.unplugged) {
    M0__JB_LIT(b, ",\"unplugged_since_ms\":");
    deadline(b, bd, f.unplugged_since);
    M0__JB_LIT(b, ",\"plug_at_ms\":");
    deadline(b, bd, f.plug_at);
    m0__jb_printf(b, ",\"reset_after_ms\":%llu", ms_of(f.reset_after));
  }
  m0__jb_printf(b, "},\"hang\":{\"hung\":%s", f.hung ? "true" : "false");
  if (f.hung) {
    M0__JB_LIT(b, ",\"since_ms\":");
    deadline(b, bd, f.hung_since);
    M0__JB_LIT(b, ",\"until_ms\":");
    deadline(b, bd, f.hang_until);
  }
  m0__jb_printf(b, "},\"held_bytes\":%zu", f.held_bytes);
  static const char *const line_dirs[] = {"to_host", "from_host"};
  static const char *const net_dirs[] = {"to_net", "from_net"};
  M0__JB_LIT(b, ",\"uart\":{");
  for (unsigned d = 0; d < 2; d++) {
    m0__jb_printf(b, "%s\"%s\":", d ? "," : "", line_dirs[d]);
    if (f.uart[d].noise.bit_error_ppb == 0 && f.uart[d].noise.loss_ppb == 0) {
      M0__JB_LIT(b, "null");
      continue;
    }
    m0__jb_printf(b, "{\"bit_error_ppb\":%lu,\"loss_ppb\":%lu,\"corrupted\":%llu,\"lost\":%llu,"
                  "\"until_ms\":", (unsigned long)f.uart[d].noise.bit_error_ppb,
                  (unsigned long)f.uart[d].noise.loss_ppb,
                  (unsigned long long)f.uart[d].corrupted, (unsigned long long)f.uart[d].lost);
    deadline(b, bd, f.uart[d].until);
    M0__JB_LIT(b, "}");
  }
  M0__JB_LIT(b, "},\"net\":{");
  for (unsigned d = 0; d < 2; d++) {
    const struct m0_net_impair *i = &f.net[d].impair;
    m0__jb_printf(b, "%s\"%s\":", d ? "," : "", net_dirs[d]);
    if (i->delay_ns == 0 && i->jitter_ns == 0 && i->loss_ppb == 0 && i->rate == 0) {
      M0__JB_LIT(b, "null");
      continue;
    }
    m0__jb_printf(b, "{\"delay_ms\":%llu,\"jitter_ms\":%llu,\"loss_ppb\":%lu,\"rate\":%lu,"
                  "\"lost\":%llu,\"until_ms\":", ms_of(i->delay_ns), ms_of(i->jitter_ns),
                  (unsigned long)i->loss_ppb, (unsigned long)i->rate,
                  (unsigned long long)f.net[d].lost);
    deadline(b, bd, f.net[d].until);
    M0__JB_LIT(b, "}");
  }
  M0__JB_LIT(b, "},\"flash\":");
  if (f.flash.fail_next == 0 && !f.flash.full) {
    M0__JB_LIT(b, "null");
  } else {
    m0__jb_printf(b, "{\"fail_next\":%lu,\"full\":%s,\"failed\":%llu,\"until_ms\":",
                  (unsigned long)f.flash.fail_next, f.flash.full ? "true" : "false",
                  (unsigned long long)f.flash.failed);
    deadline(b, bd, f.flash.until);
    M0__JB_LIT(b, "}");
  }
  M0__JB_LIT(b, "}");
}

/* ---- the commands ---- */

static const char *const on_off[] = {"off", "on", NULL};

static int cmd_power(struct m0__ctl_req *r, const struct arg *a) {
  bool on = a[0].u == 1;
  if (on && a[1].given)
    return m0__ctl_error(r, "bad-param", "'for_s' is for power off (a power cycle)");
  int rc = m0_dev_power(&r->board->dev, m0__ctl_now_ns(), on, a[1].u);
  if (rc != 0)
    return m0__ctl_error(r, m0__ctl_core_error_code(rc), "the power is already %s",
                         on ? "on" : "off");
  m0__ctl_ok(r, NULL);
  return 0;
}

static const char *const cable_states[] = {"unplugged", "plugged", NULL};

static int cmd_cable(struct m0__ctl_req *r, const struct arg *a) {
  bool plugged = a[0].u == 1;
  if (plugged && (a[1].given || a[2].given))
    return m0__ctl_error(r, "bad-param", "'for_s' and 'reset_after_s' are for unplugging");
  if (a[2].given && a[2].u == 0)
    return m0__ctl_error(r, "bad-param", "'reset_after_s' must be more than 0");
  int rc = m0_dev_fault_cable(&r->board->dev, m0__ctl_now_ns(), plugged, a[1].u, a[2].u);
  if (rc != 0)
    return m0__ctl_error(r, m0__ctl_core_error_code(rc), "the cable is already %s",
                         plugged ? "plugged" : "unplugged");
  m0__ctl_ok(r, NULL);
  return 0;
}

static int cmd_hang(struct m0__ctl_req *r, const struct arg *a) {
  if (a[0].u == 0)
    return m0__ctl_error(r, "bad-param", "'for_s' must be more than 0 (the watchdog's wait)");
  if (!m0__ctl_need_power(r))
    return -1;
  int rc = m0_dev_fault_hang(&r->board->dev, m0__ctl_now_ns(), a[0].u);
  if (rc != 0)
    return m0__ctl_error(r, m0__ctl_core_error_code(rc), "the firmware already hangs");
  m0__ctl_ok(r, NULL);
  return 0;
}

/* ---- noise, impairment, flash ---- */

static const char *const uart_dirs[] = {"to_host", "from_host", "both", NULL};
static const char *const net_dirs[] = {"to_net", "from_net", "both", NULL};

static void seed(struct m0__ctl_req *r, const struct arg *a) {
  if (a->given)
    m0_dev_fault_seed(&r->board->dev, a->u);
}

static int cmd_uart_fault(struct m0__ctl_req *r, const struct arg *a) {
  struct m0_uart_noise n = {(uint32_t)a[1].u, (uint32_t)a[2].u};
  seed(r, &a[4]);
  for (unsigned d = 0; d < 2; d++)
    if (a[0].u == d || a[0].u == 2)
      m0_dev_fault_uart(&r->board->dev, m0__ctl_now_ns(), (enum m0_uart_dir)d, &n, a[3].u);
  m0__ctl_ok(r, NULL);
  return 0;
}

static int cmd_net_fault(struct m0__ctl_req *r, const struct arg *a) {
  struct m0_net_impair i = {a[1].u, a[2].u, (uint32_t)a[3].u, (uint32_t)a[4].u};
  seed(r, &a[6]);
  for (unsigned d = 0; d < 2; d++)
    if (a[0].u == d || a[0].u == 2)
      m0_dev_fault_net(&r->board->dev, m0__ctl_now_ns(), (enum m0_net_dir)d, &i, a[5].u);
  m0__ctl_ok(r, NULL);
  return 0;
}

static int cmd_net_reset(struct m0__ctl_req *r, const struct arg *a) {
  char result[32];
  (void)a;
  int n = m0_dev_fault_net_reset(&r->board->dev, m0__ctl_now_ns());
  if (n < 0)
    return m0__ctl_error(r, m0__ctl_core_error_code(n), "the power is off (power on first)");
  snprintf(result, sizeof result, "{\"reset\":%d}", n);
  m0__ctl_ok(r, result);
  return 0;
}

static int cmd_flash_fault(struct m0__ctl_req *r, const struct arg *a) {
  m0_dev_fault_flash(&r->board->dev, m0__ctl_now_ns(), (uint32_t)a[0].u, a[1].u != 0, a[2].u);
  m0__ctl_ok(r, NULL);
  return 0;
}

static const char *const clear_what[] = {"all", "uart", "net", "flash", "cable", NULL};

static int cmd_clear(struct m0__ctl_req *r, const struct arg *a) {
  struct m0_dev *dev = &r->board->dev;
  unsigned what = a[0].given ? (unsigned)a[0].u : 0;
  uint64_t now = m0__ctl_now_ns();
  static const struct m0_uart_noise quiet;
  static const struct m0_net_impair clean;
  struct m0_fault_status f;
  if (what == 0 || what == 1)
    for (unsigned d = 0; d < 2; d++)
      m0_dev_fault_uart(dev, now, (enum m0_uart_dir)d, &quiet, 0);
  if (what == 0 || what == 2)
    for (unsigned d = 0; d < 2; d++)
      m0_dev_fault_net(dev, now, (enum m0_net_dir)d, &clean, 0);
  if (what == 0 || what == 3)
    m0_dev_fault_flash(dev, now, 0, false, 0);
  m0_dev_fault_status(dev, &f);
  if ((what == 0 || what == 4) && f.unplugged)
    m0_dev_fault_cable(dev, now, true, 0, 0);
  m0__ctl_ok(r, NULL);
  return 0;
}

static int cmd_seed(struct m0__ctl_req *r, const struct arg *a) {
  seed(r, &a[0]);
  m0__ctl_ok(r, NULL);
  return 0;
}

/* ---- this file's piece of the table ---- */

const struct m0__ctl_cmd m0__ctl_fault_cmds[] = {
  {"power", DEV_ONE,
   {{"state", P_CHOICE, 0, on_off}, {"for_s", P_SECONDS, DAY_S, NULL}}, 1, cmd_power,
   "cut the power (for_s: back on by itself) or give it back"},
  {"cable", DEV_ONE,
   {{"state", P_CHOICE, 0, cable_states},
    {"for_s", P_SECONDS, DAY_S, NULL},
    {"reset_after_s", P_SECONDS, DAY_S, NULL}},
   1, cmd_cable,
   "pull the Ethernet cable (for_s: back by itself; reset_after_s: connections reset at "
   "re-plug after this long, default 60) or plug it back"},
  {"hang", DEV_ONE, {{"for_s", P_SECONDS, DAY_S, NULL}}, 1, cmd_hang,
   "the firmware hangs for_s seconds, then its watchdog restarts it"},
  {"uart.fault", DEV_ONE,
   {{"dir", P_CHOICE, 0, uart_dirs},
    {"bit_error", P_PROB, 0, NULL},
    {"loss", P_PROB, 0, NULL},
    {"for_s", P_SECONDS, DAY_S, NULL},
    {"seed", P_UINT, UINT64_MAX / 2, NULL}},
   1, cmd_uart_fault,
   "noise on the serial line: each bit flips with probability bit_error, each byte is "
   "lost with probability loss (both 0: cleared)"},
  {"net.fault", DEV_ONE,
   {{"dir", P_CHOICE, 0, net_dirs},
    {"delay_s", P_SECONDS, 60, NULL},
    {"jitter_s", P_SECONDS, 60, NULL},
    {"loss", P_PROB, 0, NULL},
    {"rate", P_UINT, M0_NET_RATE_MAX, NULL},
    {"for_s", P_SECONDS, DAY_S, NULL},
    {"seed", P_UINT, UINT64_MAX / 2, NULL}},
   1, cmd_net_fault,
   "network impairment: delay, jitter, datagram loss, rate (bytes per second); all 0: "
   "cleared"},
  {"net.reset", DEV_ONE, {{0}}, 0, cmd_net_reset,
   "reset every TCP connection now (their peers meet RST)"},
  {"flash.fault", DEV_ONE,
   {{"fail_next", P_UINT, 1000000, NULL},
    {"full", P_BOOL, 0, NULL},
    {"for_s", P_SECONDS, DAY_S, NULL}},
   0, cmd_flash_fault,
   "the next fail_next saves fail, or every save while full (both unset: cleared)"},
  {"clear", DEV_ONE, {{"fault", P_CHOICE, 0, clear_what}}, 0, cmd_clear,
   "end faults: uart, net, flash, cable (plugged back) or all (default)"},
  {"seed", DEV_ONE, {{"seed", P_UINT, UINT64_MAX / 2, NULL}}, 1, cmd_seed,
   "reseed the generator of noise and loss (same seed, same bytes hit)"},
};
const size_t m0__ctl_fault_ncmds = sizeof m0__ctl_fault_cmds / sizeof m0__ctl_fault_cmds[0];
