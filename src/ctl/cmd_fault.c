/* cmd_fault.c: m0ctl's fault commands (docs/faults.md): cable, hang, noise, impair,
 * net-reset, flash and clear, each one request to the control channel (control.h) that
 * prints the request's t_ms.
 *
 * The options become the request's members as given, values checked and written back in
 * fixed point (seconds to the millisecond, probabilities to 1e-9), so what the emulator
 * reads is exactly what the user typed, with no float rounding in between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

enum { OPT_DIR = M0CTL_CONN_OPT_OWN, OPT_BER, OPT_LOSS, OPT_SEED, OPT_DELAY, OPT_JITTER,
       OPT_RATE };

/* Run one request with these members and print its t_ms. */
static int action(const struct m0ctl_cmd *cmd, const struct m0ctl_conn_opts *co,
                  const char *name, const char *extra) {
  return m0ctl_request(cmd, co, name, true, extra, false);
}

/* ---- cable, hang ---- */

static int cable(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {
      M0CTL_CONN_LONGS,
      {"for", required_argument, NULL, M0CTL_CONN_OPT_FOR},
      {"reset-after", required_argument, NULL, M0CTL_CONN_OPT_RESET_AFTER},
      {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  struct m0ctl_for_opts o = {0};
  char extra[160], a[64] = "", b[64] = "";
  bool done;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, m0ctl_for_option, &o, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind != 1 ||
      (strcmp(argv[optind], "unplug") != 0 && strcmp(argv[optind], "plug") != 0))
    return m0ctl_usage(cmd, "expected unplug or plug");
  bool plug = strcmp(argv[optind], "plug") == 0;
  if (plug && (o.for_given || o.reset_given))
    return m0ctl_usage(cmd, "--for and --reset-after are for unplug");
  if (o.for_given) {
    a[0] = ',';
    m0ctl_seconds_json(a + 1, sizeof a - 1, "for_s", o.for_ms);
  }
  if (o.reset_given) {
    b[0] = ',';
    m0ctl_seconds_json(b + 1, sizeof b - 1, "reset_after_s", o.reset_ms);
  }
  snprintf(extra, sizeof extra, "\"state\":\"%s\"%s%s", plug ? "plugged" : "unplugged", a, b);
  return action(cmd, &co, "cable", extra);
}

const struct m0ctl_cmd m0ctl_cmd_cable = {
    .name = "cable",
    .usage = "[--control SOCK] [--dev NAME] unplug [--for S] [--reset-after S] | plug",
    .summary = "pull the Ethernet cable or plug it back; prints the t_ms of the request",
    .help = M0CTL_CONN_HELP
    "  --for S         plugged back by itself after S seconds\n"
    "  --reset-after S an unplug this long resets the TCP connections at re-plug, as a\n"
    "                  stack that ran out of retries (default 60)\n"
    "Unplugged: peers see silence (no FIN), data for TCP is kept (16 KiB), datagrams are\n"
    "lost, dials time out after 10 s, the link pin drops.\n",
    .exec = cable,
};

static int hang(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {M0CTL_CONN_LONGS, {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  uint64_t ms;
  char extra[64];
  bool done;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, NULL, NULL, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind != 1 || m0ctl_seconds(argv[optind], M0CTL_CONN_TIMEOUT_MAX_S, &ms) != 0 ||
      ms == 0)
    return m0ctl_usage(cmd, "expected SECONDS (more than 0, at most %u)", M0CTL_CONN_TIMEOUT_MAX_S);
  m0ctl_seconds_json(extra, sizeof extra, "for_s", ms);
  return action(cmd, &co, "hang", extra);
}

const struct m0ctl_cmd m0ctl_cmd_hang = {
    .name = "hang",
    .usage = "[--control SOCK] [--dev NAME] SECONDS",
    .summary = "the firmware hangs, then its watchdog restarts it; prints the request's t_ms",
    .help = M0CTL_CONN_HELP
    "For SECONDS nothing is answered on the UART or the network (TCP peers see silence);\n"
    "then the connections are reset and the device restarts (restart cause watchdog).\n",
    .exec = hang,
};

/* ---- noise, impair, net-reset, flash, clear ---- */

/* Members gathered from options, as JSON text. */
struct members {
  char text[512];
  size_t len;
};

static void add_member(struct members *m, const char *fmt, const char *name, const char *value) {
  m->len += (size_t)snprintf(m->text + m->len, sizeof m->text - m->len, fmt,
                             m->len ? "," : "", name, value);
}

struct fault_opts {
  const struct m0ctl_cmd *cmd;
  struct members m;
  const char *const *dirs; /* the --dir choices */
};

static int fault_option(const struct m0ctl_cmd *cmd, int opt, const char *arg, void *ctx) {
  struct fault_opts *o = ctx;
  uint64_t v;
  unsigned long long n;
  char num[48];
  switch (opt) {
  case OPT_DIR:
    for (unsigned i = 0; o->dirs[i] != NULL; i++)
      if (strcmp(arg, o->dirs[i]) == 0) {
        add_member(&o->m, "%s\"%s\":\"%s\"", "dir", arg);
        return 1;
      }
    m0ctl_usage(cmd, "--dir: expected %s, %s or both, got '%s'", o->dirs[0], o->dirs[1], arg);
    return -1;
  case OPT_BER:
  case OPT_LOSS:
    if (m0ctl_probability(arg, &v) != 0) {
      m0ctl_usage(cmd, "--%s: expected a probability 0-1 (0.001, 1e-6), got '%s'",
                  opt == OPT_BER ? "ber" : "loss", arg);
      return -1;
    }
    snprintf(num, sizeof num, "%llu.%09llu", (unsigned long long)(v / 1000000000u),
             (unsigned long long)(v % 1000000000u));
    add_member(&o->m, "%s\"%s\":%s", opt == OPT_BER ? "bit_error" : "loss", num);
    return 1;
  case OPT_DELAY:
  case OPT_JITTER:
  case M0CTL_CONN_OPT_FOR:
    if (m0ctl_seconds(arg, opt == M0CTL_CONN_OPT_FOR ? 86400 : 60, &v) != 0 ||
        (opt == M0CTL_CONN_OPT_FOR && v == 0)) {
      m0ctl_usage(cmd, "--%s: expected seconds (e.g. 0.25), got '%s'",
                  opt == OPT_DELAY ? "delay" : opt == OPT_JITTER ? "jitter" : "for", arg);
      return -1;
    }
    snprintf(num, sizeof num, "%llu.%03llu", (unsigned long long)(v / 1000),
             (unsigned long long)(v % 1000));
    add_member(&o->m, "%s\"%s\":%s",
               opt == OPT_DELAY ? "delay_s" : opt == OPT_JITTER ? "jitter_s" : "for_s", num);
    return 1;
  case OPT_RATE:
  case OPT_SEED:
    if (m0ctl_uint(arg, 0, opt == OPT_RATE ? 16000000ull : (1ull << 62), &n) != 0) {
      m0ctl_usage(cmd, "--%s: expected %s, got '%s'", opt == OPT_RATE ? "rate" : "seed",
                  opt == OPT_RATE ? "bytes per second 0-16000000" : "a number", arg);
      return -1;
    }
    snprintf(num, sizeof num, "%llu", n);
    add_member(&o->m, "%s\"%s\":%s", opt == OPT_RATE ? "rate" : "seed", num);
    return 1;
  default:
    return 0;
  }
}

static const char *const uart_dir_names[] = {"to_host", "from_host", "both", NULL};
static const char *const net_dir_names[] = {"to_net", "from_net", "both", NULL};

static int fault_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv, const char *name,
                     const char *const *dirs, const struct option *longs) {
  struct m0ctl_conn_opts co;
  struct fault_opts o = {.cmd = cmd, .dirs = dirs};
  bool done, dir_given;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, fault_option, &o, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc != optind)
    return m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind]);
  dir_given = strstr(o.m.text, "\"dir\"") != NULL;
  if (!dir_given)
    add_member(&o.m, "%s\"%s\":\"%s\"", "dir", "both");
  return action(cmd, &co, name, o.m.text);
}

static int noise_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {M0CTL_CONN_LONGS,
                                        {"dir", required_argument, NULL, OPT_DIR},
                                        {"ber", required_argument, NULL, OPT_BER},
                                        {"loss", required_argument, NULL, OPT_LOSS},
                                        {"for", required_argument, NULL, M0CTL_CONN_OPT_FOR},
                                        {"seed", required_argument, NULL, OPT_SEED},
                                        {NULL, 0, NULL, 0}};
  return fault_cmd(cmd, argc, argv, "uart.fault", uart_dir_names, longs);
}

const struct m0ctl_cmd m0ctl_cmd_noise = {
    .name = "noise",
    .usage = "[--control SOCK] [--dev NAME] [--dir D] [--ber P] [--loss P] [--for S] [--seed N]",
    .summary = "noise on the serial line (no --ber nor --loss: clear it); prints the t_ms",
    .help = M0CTL_CONN_HELP
    "  --dir D         to_host, from_host or both (default)\n"
    "  --ber P         each data bit flips with probability P (e.g. 1e-4)\n"
    "  --loss P        each byte is lost with probability P\n"
    "  --for S         for S seconds (default: until cleared)\n"
    "  --seed N        reseed the generator first: the same seed hits the same bytes\n",
    .exec = noise_cmd,
};

static int impair_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {M0CTL_CONN_LONGS,
                                        {"dir", required_argument, NULL, OPT_DIR},
                                        {"delay", required_argument, NULL, OPT_DELAY},
                                        {"jitter", required_argument, NULL, OPT_JITTER},
                                        {"loss", required_argument, NULL, OPT_LOSS},
                                        {"rate", required_argument, NULL, OPT_RATE},
                                        {"for", required_argument, NULL, M0CTL_CONN_OPT_FOR},
                                        {"seed", required_argument, NULL, OPT_SEED},
                                        {NULL, 0, NULL, 0}};
  return fault_cmd(cmd, argc, argv, "net.fault", net_dir_names, longs);
}

const struct m0ctl_cmd m0ctl_cmd_impair = {
    .name = "impair",
    .usage = "[--control SOCK] [--dev NAME] [--dir D] [--delay S] [--jitter S] [--loss P] "
             "[--rate B] [--for S] [--seed N]",
    .summary = "a slow, late or lossy network (no option: clear it); prints the t_ms",
    .help = M0CTL_CONN_HELP
    "  --dir D         to_net, from_net or both (default)\n"
    "  --delay S       every send or arrival is S seconds late (at most 60)\n"
    "  --jitter S      ... plus or minus up to S (order is kept)\n"
    "  --loss P        each datagram is lost with probability P (UDP; TCP loses nothing)\n"
    "  --rate B        at most B bytes per second\n"
    "  --for S         for S seconds (default: until cleared)\n"
    "  --seed N        reseed the generator first\n",
    .exec = impair_cmd,
};

static int net_reset(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  return m0ctl_simple(cmd, argc, argv, "net.reset", true, false);
}

const struct m0ctl_cmd m0ctl_cmd_net_reset = {
    .name = "net-reset",
    .usage = "[--control SOCK] [--dev NAME]",
    .summary = "reset every TCP connection now (RST to the peers); prints the t_ms",
    .help = M0CTL_CONN_HELP,
    .exec = net_reset,
};

static int flash_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {
      M0CTL_CONN_LONGS, {"for", required_argument, NULL, M0CTL_CONN_OPT_FOR}, {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  struct m0ctl_for_opts f = {0};
  char extra[128], secs[64] = "";
  unsigned long long n = 0;
  bool done;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, m0ctl_for_option, &f, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  int args = argc - optind;
  const char *what = args >= 1 ? argv[optind] : "";
  if (f.for_given) {
    secs[0] = ',';
    m0ctl_seconds_json(secs + 1, sizeof secs - 1, "for_s", f.for_ms);
  }
  if (strcmp(what, "fail") == 0 && args == 2 && m0ctl_uint(argv[optind + 1], 1, 1000000, &n) == 0)
    snprintf(extra, sizeof extra, "\"fail_next\":%llu%s", n, secs);
  else if (strcmp(what, "full") == 0 && args == 1)
    snprintf(extra, sizeof extra, "\"full\":true%s", secs);
  else if (strcmp(what, "ok") == 0 && args == 1 && !f.for_given)
    snprintf(extra, sizeof extra, "\"fail_next\":0");
  else
    return m0ctl_usage(cmd, "expected fail N (1-1000000), full, or ok");
  return action(cmd, &co, "flash.fault", extra);
}

const struct m0ctl_cmd m0ctl_cmd_flash = {
    .name = "flash",
    .usage = "[--control SOCK] [--dev NAME] fail N | full | ok  [--for S]",
    .summary = "flash that fails: the next N saves, or every one (full); ok clears it",
    .help = M0CTL_CONN_HELP
    "  --for S         the fault ends after S seconds (default: when used up, or ok)\n"
    "A refused save answers +ERR=-5 on the serial port (an error on the web page) and\n"
    "changes nothing.\n",
    .exec = flash_cmd,
};

static int clear_cmd(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {M0CTL_CONN_LONGS, {NULL, 0, NULL, 0}};
  struct m0ctl_conn_opts co;
  char extra[64] = "";
  bool done;
  int rc = m0ctl_conn_options(cmd, argc, argv, longs, &co, NULL, NULL, &done);
  if (rc != M0CTL_OK || done)
    return rc;
  if (argc - optind > 1)
    return m0ctl_usage(cmd, "expected at most one of all, uart, net, flash, cable");
  if (argc - optind == 1) {
    const char *w = argv[optind];
    if (strcmp(w, "all") != 0 && strcmp(w, "uart") != 0 && strcmp(w, "net") != 0 &&
        strcmp(w, "flash") != 0 && strcmp(w, "cable") != 0)
      return m0ctl_usage(cmd, "expected all, uart, net, flash or cable, got '%s'", w);
    snprintf(extra, sizeof extra, "\"fault\":\"%s\"", w);
  }
  return action(cmd, &co, "clear", extra);
}

const struct m0ctl_cmd m0ctl_cmd_clear = {
    .name = "clear",
    .usage = "[--control SOCK] [--dev NAME] [all|uart|net|flash|cable]",
    .summary = "end faults (default all: noise, impairment, flash, a pulled cable)",
    .help = M0CTL_CONN_HELP,
    .exec = clear_cmd,
};

