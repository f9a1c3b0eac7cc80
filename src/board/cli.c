/* cli.c: the command line (DESIGN.md "The program's surface").
 *
 * m0__cli_parse() fills the process's options and the one device's configuration and
 * returns an error line instead of printing or exiting, so main.c owns the output and the
 * exit codes (2 for usage). It touches the system only to check that --web-root is a
 * directory and to read --profile.
 * Every value is validated here, once: a bad one names the option and echoes the value.
 * The factory settings (--profile, then every --set in order, whatever their places on
 * the line) go through the parameter table like AT commands (m0__profile_build); a bad
 * line or value is a usage error naming the option, the line and the reason.
 * Repeated options: the last one wins (getopt convention), except --web-host, which
 * adds a name each time (up to 16), --uart, which adds a server each time (up to 4),
 * --set (up to 64), and --peer, which adds an entry (up to 64).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "board.h"

enum {
  OPT_TTY = 256, OPT_STATE, OPT_BIND, OPT_NET, OPT_WEB_PORT, OPT_WEB_ROOT, OPT_WEB_HOST,
  OPT_TIMING, OPT_DIALECT, OPT_EVENTS, OPT_MAC, OPT_LINE_FAULTS, OPT_BOOT_MS, OPT_VERSION,
  OPT_CONTROL, OPT_CONTROL_PORT,
  OPT_FLEET, OPT_COUNT, OPT_NAME, OPT_NO_TTY, OPT_PEER, OPT_FLEET_WEB,
  OPT_UART,
  OPT_UDP1500_PORT, OPT_UDP1500_REPLY,
  OPT_PROFILE, OPT_SET,
};

static const struct option long_options[] = {
  {"tty", required_argument, NULL, OPT_TTY},
  {"uart", required_argument, NULL, OPT_UART},
  {"state", required_argument, NULL, OPT_STATE},
  {"bind", required_argument, NULL, OPT_BIND},
  {"net", required_argument, NULL, OPT_NET},
  {"web-port", required_argument, NULL, OPT_WEB_PORT},
  {"web-root", required_argument, NULL, OPT_WEB_ROOT},
  {"web-host", required_argument, NULL, OPT_WEB_HOST},
  {"timing", required_argument, NULL, OPT_TIMING},
  {"dialect", required_argument, NULL, OPT_DIALECT},
  {"events", required_argument, NULL, OPT_EVENTS},
  {"control", required_argument, NULL, OPT_CONTROL},
  {"control-port", required_argument, NULL, OPT_CONTROL_PORT},
  {"mac", required_argument, NULL, OPT_MAC},
  {"line-faults", no_argument, NULL, OPT_LINE_FAULTS},
  {"boot-ms", required_argument, NULL, OPT_BOOT_MS},
  {"fleet", required_argument, NULL, OPT_FLEET},
  {"count", required_argument, NULL, OPT_COUNT},
  {"name", required_argument, NULL, OPT_NAME},
  {"no-tty", no_argument, NULL, OPT_NO_TTY},
  {"peer", required_argument, NULL, OPT_PEER},
  {"fleet-web", required_argument, NULL, OPT_FLEET_WEB},
  {"udp1500-port", required_argument, NULL, OPT_UDP1500_PORT},
  {"udp1500-reply", required_argument, NULL, OPT_UDP1500_REPLY},
  {"profile", required_argument, NULL, OPT_PROFILE},
  {"set", required_argument, NULL, OPT_SET},
  {"verbose", no_argument, NULL, 'v'},
  {"quiet", no_argument, NULL, 'q'},
  {"help", no_argument, NULL, 'h'},
  {"version", no_argument, NULL, OPT_VERSION},
  {NULL, 0, NULL, 0},
};

/* The longest boot we accept: a minute is already far beyond the real module's. */
#define BOOT_MS_MAX 60000u

void m0__cli_help(FILE *out) {
  fputs("usage: m0emu [options]\n"
        "Emulates a USR-M0 serial-to-Ethernet module: a pty for its UART, a file for "
        "its flash.\n"
        "\n"
        "  --tty PATH          symlink to the emulated UART          (default: ./m0emu.tty)\n"
        "  --uart KIND:[ADDR:]PORT  the UART on a TCP port too, KIND tcp (raw bytes) or\n"
        "                      rfc2217 (pyserial's rfc2217://); ADDR 127.0.0.1 unless\n"
        "                      given, PORT 0 any free one (repeatable, up to 4)\n"
        "  --state DIR         flash file and runtime files           (default: ./m0emu-state)\n"
        "  --bind ADDR         host address for listening sockets     (default: 127.0.0.1)\n"
        "  --net loopback|host where dialled peers are               (default: loopback)\n"
        "  --peer MAP          ADDR[:PORT]=HOST[:PORT]: dial HOST for ADDR (repeatable)\n"
        "  --web-port PORT     host port of the web server            (default: from WEBPORT)\n"
        "  --web-root DIR      serve the page from DIR, for development (default: embedded)\n"
        "  --web-host NAME     extra Host name to answer (repeatable) (default: IPs, localhost)\n"
        "  --timing real|fast  UART pacing                            (default: real)\n"
        "  --dialect doc|field reply spelling                         (default: doc)\n"
        "  --events PATH|-     JSON-lines event stream                (default: none)\n"
        "  --control PATH      control channel on a Unix socket       (default: none)\n"
        "  --control-port PORT control channel on 127.0.0.1:PORT too  (default: none)\n"
        "  --mac HEX12         factory MAC                            (default: derived)\n"
        "  --line-faults       corrupt bytes on a baud mismatch\n"
        "  --boot-ms N         restart duration in ms, 0-60000        (default: 200)\n"
        "  --name NAME         the device's name in events and log    (default: none)\n"
        "  --no-tty            no pty: the device runs without a UART host\n"
        "  --fleet DIR         run a fleet: one module per DIR/<name>/ (default: one device)\n"
        "  --count N           with --fleet: modules 1-N               (default: those in DIR)\n"
        "  --fleet-web PORT    overview page of every module, [ADDR:]PORT (default: none)\n"
        "  --udp1500-port PORT UDP port of the setup protocols, 0 = off (default: 1500)\n"
        "  --udp1500-reply unicast|broadcast\n"
        "                      their replies; broadcast needs --net host (default: unicast)\n"
        "  --profile FILE      factory settings from a flash-format file (default: built-in)\n"
        "  --set NAME=VALUE    one factory setting, e.g. E=off (repeatable, after --profile)\n"
        "  -v, --verbose       log to stderr\n"
        "  -q, --quiet         no banner\n"
        "  -h, --help          this text, then exit\n"
        "  --version           the version, then exit\n"
        "\n"
        "A fleet's module k is named <NAME><k> (m0001 by default), at the k-th address from\n"
        "--bind (default 127.0.1.1), with MAC --mac + k - 1; every other option applies to\n"
        "each module.\n"
        "\n"
        "Exit status: 0 clean exit (SIGINT/SIGTERM), 1 runtime failure (including a\n"
        "--web-port that cannot be bound, or a state folder or tty another m0emu holds),\n"
        "2 usage error. SIGHUP restarts every device like AT+Z. More in man m0emu.\n",
        out);
}

static enum m0__cli_result fail(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum m0__cli_result fail(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  return M0__CLI_USAGE;
}

/* Strict decimal: digits only, no sign, no spaces, within [min, max]. */
static int parse_uint(const char *s, unsigned long min, unsigned long max,
                      unsigned long *out) {
  if (*s == '\0' || strlen(s) > 10)
    return -EINVAL;
  for (const char *p = s; *p; p++)
    if (!isdigit((unsigned char)*p))
      return -EINVAL;
  errno = 0;
  unsigned long v = strtoul(s, NULL, 10);
  if (errno != 0 || v < min || v > max)
    return -ERANGE;
  *out = v;
  return 0;
}

/* A device name or a fleet's prefix: safe in a path, a log line and JSON unescaped. */
static bool name_valid(const char *s, size_t max) {
  size_t len = strlen(s);
  if (len == 0 || len > max || s[0] == '.')
    return false;
  for (const char *p = s; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
      return false;
  return true;
}

/* --uart KIND:[ADDR:]PORT, KIND tcp or rfc2217, ADDR an IPv4 literal or [IPv6]. */
static enum m0__cli_result parse_uart(struct m0__dev_cfg *dev, const char *arg, char *err,
                                      size_t cap) {
  struct m0__uart_net_cfg u = {.addr = "127.0.0.1"};
  const char *rest;
  if (strncmp(arg, "tcp:", 4) == 0) {
    rest = arg + 4;
  } else if (strncmp(arg, "rfc2217:", 8) == 0) {
    u.rfc2217 = true;
    rest = arg + 8;
  } else {
    return fail(err, cap, "--uart: expected tcp:[ADDR:]PORT or rfc2217:[ADDR:]PORT, got '%s'",
                arg);
  }
  const char *port = rest, *colon = strrchr(rest, ':');
  if (colon != NULL) {
    const char *a = rest;
    size_t n = (size_t)(colon - rest);
    if (n >= 2 && a[0] == '[' && a[n - 1] == ']') { /* [IPv6] */
      a++;
      n -= 2;
    }
    unsigned char bin[16];
    char addr[sizeof u.addr];
    if (n == 0 || n >= sizeof addr)
      return fail(err, cap, "--uart: expected an IPv4 address or [IPv6] before the port, got '%s'",
                  arg);
    memcpy(addr, a, n);
    addr[n] = '\0';
    bool v6 = a != rest;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
      return fail(err, cap, "--uart: expected an IPv4 address or [IPv6] before the port, got '%s'",
                  arg);
    memcpy(u.addr, addr, n + 1);
    u.addr_given = true;
    port = colon + 1;
  }
  unsigned long n;
  if (parse_uint(port, 0, 65535, &n) != 0)
    return fail(err, cap, "--uart: expected a port 0-65535, got '%s'", arg);
  u.port = (uint16_t)n;
  if (dev->nuart_net == M0__UART_NET_MAX)
    return fail(err, cap, "--uart: at most %d servers, got '%s' as one more", M0__UART_NET_MAX,
                arg);
  for (size_t i = 0; i < dev->nuart_net; i++)
    if (u.port != 0 && dev->uart_net[i].port == u.port &&
        strcmp(dev->uart_net[i].addr, u.addr) == 0)
      return fail(err, cap, "--uart: port %u on %s is given twice ('%s')", (unsigned)u.port,
                  u.addr, arg);
  dev->uart_net[dev->nuart_net++] = u;
  return M0__CLI_RUN;
}

static bool is_long_val(int opt) {
  for (const struct option *o = long_options; o->name; o++)
    if (o->val == opt)
      return true;
  return false;
}

/* What getopt_long saw, for messages: "--tty" or "-x". */
static const char *option_name(int opt, char *buf, size_t cap) {
  for (const struct option *o = long_options; o->name; o++)
    if (o->val == opt) {
      snprintf(buf, cap, "--%s", o->name);
      return buf;
    }
  snprintf(buf, cap, "-%c", opt);
  return buf;
}

enum m0__cli_result m0__cli_parse(struct m0__proc_opts *opts, struct m0__dev_cfg *dev,
                                  int argc, char **argv, char *err, size_t cap) {
  *opts = (struct m0__proc_opts){0};
  *dev = (struct m0__dev_cfg){
      .name = "",
      .tty = "./m0emu.tty",
      .state = "./m0emu-state",
      .bind = "127.0.0.1",
      .timing = M0_TIMING_REAL,
      .dialect = M0_DIALECT_DOC,
      .boot_ms = 200,
      .udp1500_port = 1500,
  };
  err[0] = '\0';
  bool help = false, version = false;
  const char *tty_given = NULL, *state_given = NULL, *bind_given = NULL, *name = NULL;
  bool count_given = false;
  char opt_name[32];

  optind = 0; /* glibc: full re-initialisation, so the parser can run more than once */
  opterr = 0; /* our own one-line messages */
  for (;;) {
    int longindex = -1;
    int opt = getopt_long(argc, argv, ":vqh", long_options, &longindex);
    if (opt == -1)
      break;
    const char *arg = optarg;
    unsigned long n;
    switch (opt) {
    case OPT_TTY:
    case OPT_STATE:
    case OPT_EVENTS:
    case OPT_CONTROL:
      if (*arg == '\0')
        return fail(err, cap, "%s: expected a path, got ''", option_name(opt, opt_name, sizeof opt_name));
      if (opt == OPT_TTY)
        dev->tty = tty_given = arg;
      else if (opt == OPT_STATE)
        dev->state = state_given = arg;
      else if (opt == OPT_CONTROL && strlen(arg) >= sizeof((struct sockaddr_un *)0)->sun_path)
        return fail(err, cap, "--control: a Unix socket's path has at most %zu bytes, got '%s'",
                    sizeof((struct sockaddr_un *)0)->sun_path - 1, arg);
      else if (opt == OPT_CONTROL)
        opts->control = arg;
      else
        opts->events = arg;
      break;
    case OPT_CONTROL_PORT:
      if (parse_uint(arg, 1, 65535, &n) != 0)
        return fail(err, cap, "--control-port: expected a port 1-65535, got '%s'", arg);
      opts->control_port = (uint16_t)n;
      break;
    case OPT_BIND: {
      unsigned char addr[16];
      if (inet_pton(AF_INET, arg, addr) != 1 && inet_pton(AF_INET6, arg, addr) != 1)
        return fail(err, cap, "--bind: expected an IPv4 or IPv6 address, got '%s'", arg);
      dev->bind = bind_given = arg;
      break;
    }
    case OPT_NET:
      if (strcmp(arg, "loopback") == 0)
        dev->net_host = false;
      else if (strcmp(arg, "host") == 0)
        dev->net_host = true;
      else
        return fail(err, cap, "--net: expected loopback or host, got '%s'", arg);
      break;
    case OPT_WEB_ROOT: {
      struct stat st;
      if (stat(arg, &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(err, cap, "--web-root: '%s' is not a directory", arg);
      dev->web_root = arg;
      break;
    }
    case OPT_WEB_HOST:
      if (!m0__web_host_name_valid(arg))
        return fail(err, cap,
                    "--web-host: expected a host name (letters, digits, '-', '_', '.') or '*', "
                    "got '%s'",
                    arg);
      if (dev->nweb_hosts == M0__WEB_HOSTS_MAX)
        return fail(err, cap, "--web-host: at most %d names, got '%s' as one more",
                    M0__WEB_HOSTS_MAX, arg);
      dev->web_hosts[dev->nweb_hosts++] = arg;
      break;
    case OPT_UART:
      if (parse_uart(dev, arg, err, cap) != M0__CLI_RUN)
        return M0__CLI_USAGE;
      break;
    case OPT_WEB_PORT:
      if (parse_uint(arg, 1, 65535, &n) != 0)
        return fail(err, cap, "--web-port: expected a port 1-65535, got '%s'", arg);
      dev->web_port = (uint16_t)n;
      break;
    case OPT_TIMING:
      if (strcmp(arg, "real") == 0)
        dev->timing = M0_TIMING_REAL;
      else if (strcmp(arg, "fast") == 0)
        dev->timing = M0_TIMING_FAST;
      else
        return fail(err, cap, "--timing: expected real or fast, got '%s'", arg);
      break;
    case OPT_DIALECT:
      if (strcmp(arg, "doc") == 0)
        dev->dialect = M0_DIALECT_DOC;
      else if (strcmp(arg, "field") == 0)
        dev->dialect = M0_DIALECT_FIELD;
      else
        return fail(err, cap, "--dialect: expected doc or field, got '%s'", arg);
      break;
    case OPT_MAC: {
      size_t len = strlen(arg);
      bool ok = len == 12;
      for (size_t i = 0; ok && i < len; i++)
        ok = isxdigit((unsigned char)arg[i]) != 0;
      if (!ok)
        return fail(err, cap, "--mac: expected 12 hex digits (e.g. D8B04C000001), got '%s'",
                    arg);
      for (size_t i = 0; i < 12; i++)
        dev->mac[i] = (char)toupper((unsigned char)arg[i]);
      dev->mac[12] = '\0';
      break;
    }
    case OPT_LINE_FAULTS:
      dev->line_faults = true;
      break;
    case OPT_NO_TTY:
      dev->no_tty = true;
      break;
    case OPT_FLEET_WEB: {
      /* PORT, ADDR:PORT (IPv4) or [ADDR]:PORT (IPv6); the address defaults to 127.0.0.1. */
      const char *colon = strrchr(arg, ':');
      const char *port_s = colon ? colon + 1 : arg;
      char addr[INET6_ADDRSTRLEN] = "127.0.0.1";
      unsigned char bin[16];
      bool ok = true;
      if (colon != NULL) {
        const char *a = arg;
        size_t len = (size_t)(colon - arg);
        if (len >= 2 && a[0] == '[' && a[len - 1] == ']') {
          a++;
          len -= 2;
        }
        ok = len > 0 && len < sizeof addr;
        if (ok) {
          memcpy(addr, a, len);
          addr[len] = '\0';
          ok = inet_pton(AF_INET, addr, bin) == 1 || inet_pton(AF_INET6, addr, bin) == 1;
        }
      }
      if (!ok || parse_uint(port_s, 1, 65535, &n) != 0)
        return fail(err, cap, "--fleet-web: expected PORT or ADDR:PORT (an IP address, a port "
                    "1-65535), got '%s'", arg);
      snprintf(opts->fleet_web_addr, sizeof opts->fleet_web_addr, "%s", addr);
      opts->fleet_web_port = (uint16_t)n;
      break;
    }
    case OPT_PEER: {
      char why[256];
      if (m0__peer_parse(&opts->peers, arg, why, sizeof why) != 0)
        return fail(err, cap, "--peer: %s", why);
      break;
    }
    case OPT_FLEET:
      if (*arg == '\0')
        return fail(err, cap, "--fleet: expected a folder, got ''");
      opts->fleet = arg;
      break;
    case OPT_COUNT:
      if (parse_uint(arg, 1, M0__FLEET_MAX, &n) != 0)
        return fail(err, cap, "--count: expected a number of modules 1-%d, got '%s'",
                    M0__FLEET_MAX, arg);
      opts->count = (unsigned)n;
      count_given = true;
      break;
    case OPT_NAME:
      if (!name_valid(arg, M0__DEV_NAME_MAX))
        return fail(err, cap,
                    "--name: expected 1-%d letters, digits, '-', '_' or '.', got '%s'",
                    M0__DEV_NAME_MAX, arg);
      name = arg;
      break;
    case OPT_PROFILE:
      if (*arg == '\0')
        return fail(err, cap, "--profile: expected a path, got ''");
      dev->profile = arg;
      break;
    case OPT_SET:
      if (dev->nsets == M0__SETS_MAX)
        return fail(err, cap, "--set: at most %d, got '%s' as one more", M0__SETS_MAX, arg);
      dev->sets[dev->nsets++] = arg;
      break;
    case OPT_BOOT_MS:
      if (parse_uint(arg, 0, BOOT_MS_MAX, &n) != 0)
        return fail(err, cap, "--boot-ms: expected milliseconds 0-%u, got '%s'", BOOT_MS_MAX,
                    arg);
      dev->boot_ms = (uint32_t)n;
      break;
    case OPT_UDP1500_PORT:
      if (parse_uint(arg, 0, 65535, &n) != 0)
        return fail(err, cap, "--udp1500-port: expected a port 0-65535 (0 = off), got '%s'",
                    arg);
      dev->udp1500_port = (uint16_t)n;
      break;
    case OPT_UDP1500_REPLY:
      if (strcmp(arg, "unicast") == 0)
        dev->udp1500_broadcast = false;
      else if (strcmp(arg, "broadcast") == 0)
        dev->udp1500_broadcast = true;
      else
        return fail(err, cap, "--udp1500-reply: expected unicast or broadcast, got '%s'", arg);
      break;
    case 'v':
      opts->verbosity = 1;
      break;
    case 'q':
      opts->verbosity = -1;
      break;
    case 'h':
      help = true;
      break;
    case OPT_VERSION:
      version = true;
      break;
    case ':':
      /* optopt is the option's val; for a long option spelled out, argv names it. */
      if (optopt >= OPT_TTY)
        return fail(err, cap, "%s: missing value", option_name(optopt, opt_name, sizeof opt_name));
      return fail(err, cap, "-%c: missing value", optopt);
    default: /* '?' */
      /* A flag given a value (--line-faults=1, --help=1): optopt is its val. */
      if (optopt != 0 && is_long_val(optopt) && strncmp(argv[optind - 1], "--", 2) == 0)
        return fail(err, cap, "%s: takes no value", option_name(optopt, opt_name, sizeof opt_name));
      if (optopt != 0 && optopt < OPT_TTY)
        return fail(err, cap, "unknown option '-%c' (see --help)", optopt);
      return fail(err, cap, "unknown or ambiguous option '%s' (see --help)", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return fail(err, cap, "unexpected argument '%s' (see --help)", argv[optind]);
  if (opts->peers.n > 0 && dev->net_host)
    return fail(err, cap, "--peer: only with --net loopback (--net host dials the real "
                "addresses)");
  if (opts->fleet == NULL) {
    if (count_given)
      return fail(err, cap, "--count: only with --fleet DIR");
    if (name != NULL)
      dev->name = name;
  } else {
    if (tty_given != NULL)
      return fail(err, cap, "--tty: not with --fleet (module <name>'s is DIR/<name>/tty)");
    if (state_given != NULL)
      return fail(err, cap, "--state: not with --fleet (module <name>'s is DIR/<name>/)");
    if (name != NULL && strlen(name) > M0__FLEET_PREFIX_MAX)
      return fail(err, cap, "--name: a fleet's prefix has at most %d characters, got '%s'",
                  M0__FLEET_PREFIX_MAX, name);
    opts->prefix = name != NULL ? name : "m";
    /* Each module serves its UART at its own address (KIND:PORT, the same port for all,
     * as its web page and UDP 1500); one fixed ADDR:PORT would be bound once per module. */
    for (size_t i = 0; i < dev->nuart_net; i++)
      if (dev->uart_net[i].addr_given && dev->uart_net[i].port != 0)
        return fail(err, cap, "--uart: in a fleet each module serves its UART at its own "
                    "address: give %s:%u without an address (or port 0), not %s:%u",
                    dev->uart_net[i].rfc2217 ? "rfc2217" : "tcp",
                    (unsigned)dev->uart_net[i].port, dev->uart_net[i].addr,
                    (unsigned)dev->uart_net[i].port);
    struct in_addr a;
    if (bind_given == NULL)
      dev->bind = "127.0.1.1";
    else if (inet_pton(AF_INET, bind_given, &a) != 1)
      return fail(err, cap, "--bind: a fleet needs an IPv4 address (its first module's), "
                  "got '%s'", bind_given);
  }
  if (help)
    return M0__CLI_HELP;
  if (version)
    return M0__CLI_VERSION;
  if (dev->profile != NULL || dev->nsets > 0) {
    if (m0__profile_build(&dev->factory, dev->profile, dev->sets, dev->nsets, err, cap) != 0)
      return M0__CLI_USAGE;
    dev->has_factory = true;
  }
  return M0__CLI_RUN;
}

void m0__mac_derive(const char *real_state_dir, char mac[13]) {
  /* FNV-1a, 32 bits: tiny, stable across builds and hosts, well spread in low bits. */
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)real_state_dir; *p; p++) {
    h ^= *p;
    h *= 16777619u;
  }
  snprintf(mac, 13, "%s%06X", M0__MAC_OUI, (unsigned)(h & 0xFFFFFFu));
}
