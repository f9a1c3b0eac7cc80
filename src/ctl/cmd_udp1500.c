/* cmd_udp1500.c: m0ctl's UDP 1500 group: `search` and `netset`, the vendor's setup
 * protocols spoken from the host (the codec is the core's, include/m0/udp1500.h, so the
 * tool and the emulator read every byte alike).
 *
 * search: one socket on an ephemeral port with SO_BROADCAST sends the FF search and the
 * T24 search (to 255.255.255.255:1500 unless --to), then collects replies for --timeout
 * (2 s, what the public tools wait) and merges them by MAC: the FF reply gives the name,
 * current address and version, the T24 reply the work mode.
 *
 * netset: the FF protocol's read-modify-write, as the vendor's tool does it: read the
 * three blocks (cmd 03), apply NAME=VALUE through the AT parameter table, write only the
 * blocks that changed, then restart the module (cmd 02) so the values apply. A block is
 * written as read with only the changed bits replaced, so fields m0ctl does not model (a
 * real module's device ID, packing time, RS485 bit) go back untouched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "m0/params.h"
#include "m0/udp1500.h"

#define DEFAULT_TIMEOUT_MS 2000
#define TIMEOUT_MAX_MS 600000
#define MODULES_MAX 256

/* ---- what both commands share ---- */

struct target {
  const char *to; /* the address given */
  struct sockaddr_in addr;
  unsigned timeout_ms;
};

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
  char *end;
  unsigned long v;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

/* An IPv4 address or a name with an IPv4 address. */
static int resolve(const char *host, uint16_t port, struct sockaddr_in *out) {
  struct addrinfo hints, *res = NULL;
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons(port);
  if (inet_pton(AF_INET, host, &out->sin_addr) == 1)
    return 0;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
    return -1;
  out->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return 0;
}

static int open_socket(const struct m0ctl_cmd *cmd) {
  int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    m0ctl_fail(cmd, "socket: %s", strerror(errno));
    return -1;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) {
    m0ctl_fail(cmd, "SO_BROADCAST: %s", strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

static int send_to(const struct m0ctl_cmd *cmd, int fd, const struct target *t,
                   const uint8_t *data, size_t len) {
  if (sendto(fd, data, len, 0, (const struct sockaddr *)&t->addr, sizeof t->addr) < 0) {
    m0ctl_fail(cmd, "cannot send to %s:%u: %s", t->to, ntohs(t->addr.sin_port),
               strerror(errno));
    return -1;
  }
  return 0;
}

/* One datagram before `deadline` (ms): its length, 0 at the deadline, -1 on error. */
static ssize_t receive(int fd, uint64_t deadline, uint8_t *buf, size_t cap,
                       struct sockaddr_in *from) {
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t now = now_ms();
    socklen_t fl = sizeof *from;
    ssize_t n;
    int rc;
    if (now >= deadline)
      return 0;
    rc = poll(&p, 1, (int)(deadline - now));
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc < 0)
      return -1;
    if (rc == 0)
      return 0;
    n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &fl);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNREFUSED))
      continue; /* ICMP port unreachable from an earlier send: wait on */
    if (n < 0)
      return -1;
    if (n > 0)
      return n;
  }
}

static void mac_text(const uint8_t mac[6], char out[13]) {
  snprintf(out, 13, "%02X%02X%02X%02X%02X%02X", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static void ip_text(const uint8_t ip[4], char out[16]) {
  snprintf(out, 16, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

/* A JSON string of printable ASCII (names come from the network: escape the rest). */
static void json_text(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c < 0x20 || c > 0x7e)
      fprintf(out, "\\u%04x", c);
    else
      fputc(c, out);
  }
  fputc('"', out);
}

/* --to, --port, --timeout: shared option parsing. Returns 1 if opt was one of them, 0 if
 * not, or M0CTL_USAGE + 100 on a bad value (after the message). */
enum { OPT_TO = 300, OPT_PORT, OPT_TIMEOUT, OPT_JSON, OPT_PROTOCOL, OPT_MAC, OPT_USER,
       OPT_PASSWORD, OPT_NO_RESTART, OPT_READ, OPT_DEFAULT, OPT_HELP };

struct common {
  const char *to;
  unsigned long port, timeout;
};

static int common_option(const struct m0ctl_cmd *cmd, int opt, const char *arg,
                         struct common *c) {
  switch (opt) {
  case OPT_TO:
    c->to = arg;
    return 1;
  case OPT_PORT:
    if (parse_num(arg, 1, 65535, &c->port) != 0)
      return m0ctl_usage(cmd, "--port: expected a port 1-65535, got '%s'", arg) + 100;
    return 1;
  case OPT_TIMEOUT:
    if (parse_num(arg, 1, TIMEOUT_MAX_MS, &c->timeout) != 0)
      return m0ctl_usage(cmd, "--timeout: expected milliseconds 1-%u, got '%s'", TIMEOUT_MAX_MS,
                         arg) + 100;
    return 1;
  default:
    return 0;
  }
}

static int bad_option(const struct m0ctl_cmd *cmd, const struct option *longs, int opt,
                      char **argv) {
  if (opt == ':') {
    const struct option *o;
    for (o = longs; o->name != NULL; o++) {
      if (o->val == optopt)
        return m0ctl_usage(cmd, "--%s: missing value", o->name);
    }
  }
  return m0ctl_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

static int make_target(const struct m0ctl_cmd *cmd, const struct common *c, struct target *t) {
  t->to = c->to;
  t->timeout_ms = (unsigned)c->timeout;
  if (resolve(c->to, (uint16_t)c->port, &t->addr) != 0)
    return m0ctl_usage(cmd, "--to: not an IPv4 address or known host name: '%s'", c->to);
  return 0;
}

/* ---- search ---- */

static const char *const mode_names[] = {"UDPC", "TCPC", "UDPS", "TCPS"};

struct module {
  uint8_t mac[6];
  struct sockaddr_in from;
  bool ff, t24;
  struct m0_udp1500_ident id;
  struct m0_udp1500_t24 t;
};

static struct module *module_for(struct module *mods, unsigned *n, const uint8_t mac[6]) {
  unsigned i;
  for (i = 0; i < *n; i++) {
    if (memcmp(mods[i].mac, mac, 6) == 0)
      return &mods[i];
  }
  if (*n == MODULES_MAX)
    return NULL;
  memset(&mods[*n], 0, sizeof mods[*n]);
  memcpy(mods[*n].mac, mac, 6);
  return &mods[(*n)++];
}

static void print_module(const struct module *m, bool json) {
  char mac[13], ip[16], from[16], version[16] = "-";
  const char *mode = m->t24 && m->t.mode < 4 ? mode_names[m->t.mode] : "-";
  mac_text(m->mac, mac);
  inet_ntop(AF_INET, &m->from.sin_addr, from, sizeof from);
  if (m->ff) {
    ip_text(m->id.ip, ip);
    snprintf(version, sizeof version, "V%u", m->id.version);
  } else {
    snprintf(ip, sizeof ip, "%s", from); /* T24 only: where it answered from */
    snprintf(version, sizeof version, "0x%02X", m->t.version);
  }
  if (!json) {
    printf("%-16s %s  %-15s %-6s %s\n", m->ff && m->id.name[0] ? m->id.name : "-", mac, ip,
           version, mode);
    return;
  }
  printf("{\"name\":");
  json_text(stdout, m->ff ? m->id.name : "");
  printf(",\"mac\":\"%s\",\"ip\":\"%s\",\"version\":\"%s\",\"mode\":\"%s\",\"from\":\"%s:%u\","
         "\"ff\":%s,\"t24\":%s",
         mac, ip, version, mode, from, ntohs(m->from.sin_port), m->ff ? "true" : "false",
         m->t24 ? "true" : "false");
  if (m->ff)
    printf(",\"board_type\":%u,\"board_id\":%u,\"checksum_ok\":%s", m->id.board_type,
           m->id.board_id, m->id.sum_ok ? "true" : "false");
  if (m->t24) {
    char dest[16], mip[16], gw[16], mask[16];
    ip_text(m->t.dest_ip, dest);
    ip_text(m->t.ip, mip);
    ip_text(m->t.gateway, gw);
    ip_text(m->t.mask, mask);
    printf(",\"t24_version\":%u,\"peer\":\"%s:%u\",\"static_ip\":\"%s\",\"local_port\":%u,"
           "\"gateway\":\"%s\",\"mask\":\"%s\",\"baud\":%u,\"serial\":%u,\"flags\":%u",
           m->t.version, dest, m->t.dest_port, mip, m->t.port, gw, mask, (unsigned)m->t.baud,
           m->t.serial, m->t.flags);
  }
  printf("}\n");
}

static int search(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {
      {"to", required_argument, NULL, OPT_TO},
      {"port", required_argument, NULL, OPT_PORT},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"json", no_argument, NULL, OPT_JSON},
      {"protocol", required_argument, NULL, OPT_PROTOCOL},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0},
  };
  static struct module mods[MODULES_MAX];
  struct common c = {"255.255.255.255", M0_UDP1500_PORT, DEFAULT_TIMEOUT_MS};
  struct target t;
  bool json = false, ff = true, t24 = true;
  unsigned n = 0, i;
  uint64_t deadline;
  int fd, opt, rc;
  optind = 0;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
    if ((rc = common_option(cmd, opt, optarg, &c)) > 1)
      return rc - 100;
    if (rc == 1)
      continue;
    if (opt == OPT_JSON) {
      json = true;
    } else if (opt == OPT_PROTOCOL) {
      ff = strcmp(optarg, "ff") == 0 || strcmp(optarg, "both") == 0;
      t24 = strcmp(optarg, "t24") == 0 || strcmp(optarg, "both") == 0;
      if (!ff && !t24)
        return m0ctl_usage(cmd, "--protocol: expected ff, t24 or both, got '%s'", optarg);
    } else if (opt == OPT_HELP) {
      m0ctl_cmd_help(cmd, stdout);
      return M0CTL_OK;
    } else {
      return bad_option(cmd, longs, opt, argv);
    }
  }
  if (optind < argc)
    return m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind]);
  if ((rc = make_target(cmd, &c, &t)) != 0)
    return rc;
  fd = open_socket(cmd);
  if (fd < 0)
    return M0CTL_FAIL;
  if ((ff && send_to(cmd, fd, &t, m0_udp1500_ff_search, sizeof m0_udp1500_ff_search) != 0) ||
      (t24 && send_to(cmd, fd, &t, m0_udp1500_t24_search, sizeof m0_udp1500_t24_search) != 0)) {
    close(fd);
    return M0CTL_FAIL;
  }
  deadline = now_ms() + t.timeout_ms;
  for (;;) {
    uint8_t buf[2048];
    struct sockaddr_in from;
    struct m0_udp1500_ident id;
    struct m0_udp1500_t24 info;
    struct module *m;
    ssize_t len = receive(fd, deadline, buf, sizeof buf, &from);
    if (len < 0) {
      m0ctl_fail(cmd, "receive: %s", strerror(errno));
      close(fd);
      return M0CTL_FAIL;
    }
    if (len == 0)
      break;
    if (ff && m0_udp1500_search_reply_parse(buf, (size_t)len, &id) == 0) {
      if ((m = module_for(mods, &n, id.mac)) == NULL)
        continue;
      m->ff = true;
      m->id = id;
      m->from = from;
    } else if (t24 && m0_udp1500_t24_parse(buf, (size_t)len, &info) == 0) {
      if ((m = module_for(mods, &n, info.mac)) == NULL)
        continue;
      m->t24 = true;
      m->t = info;
      if (!m->ff)
        m->from = from;
    }
  }
  close(fd);
  for (i = 0; i < n; i++)
    print_module(&mods[i], json);
  if (n == 0) {
    fprintf(stderr, "m0ctl search: no module answered at %s:%u within %u ms\n", t.to,
            ntohs(t.addr.sin_port), t.timeout_ms);
    return M0CTL_FAIL;
  }
  return M0CTL_OK;
}

const struct m0ctl_cmd m0ctl_cmd_search = {
    .name = "search",
    .usage = "[--to ADDR] [--port PORT] [--timeout MS] [--protocol ff|t24|both] [--json]",
    .summary = "find modules: the FF and T24 searches, one line per module that answers",
    .help = "  --to ADDR       where to send (default 255.255.255.255: every module on the LAN)\n"
            "  --port PORT     the modules' port (default 1500)\n"
            "  --timeout MS    how long to collect replies (default 2000)\n"
            "  --protocol P    ff, t24 or both (default both)\n"
            "  --json          one JSON object per module instead of a line\n"
            "Each line: name, MAC, IP, version, work mode (- when unknown). Exit 1 when no\n"
            "module answered.\n",
    .exec = search,
};

/* ---- netset ---- */

/* The parameters the FF blocks carry, by block. */
enum block { B_BASIC, B_PORT, B_HEART, B_COUNT };
static const struct {
  enum m0_param_id id;
  enum block block;
} carried[] = {
    {M0_ID_WANN, B_BASIC},    {M0_ID_WEBPORT, B_BASIC},
    {M0_ID_WEBU, B_BASIC},    {M0_ID_MID, B_BASIC},       {M0_ID_CLIENTRST, B_BASIC},
    {M0_ID_SCSLINK, B_BASIC}, {M0_ID_INDEXEN, B_BASIC},   {M0_ID_RFCEN, B_BASIC},
    {M0_ID_UART, B_PORT},     {M0_ID_SOCK, B_PORT},       {M0_ID_SOCKPORT, B_PORT},
    {M0_ID_HTPTP, B_PORT},    {M0_ID_MAXSK, B_PORT},      {M0_ID_HEARTEN, B_HEART},
    {M0_ID_HEARTTP, B_HEART}, {M0_ID_HEARTTM, B_HEART},   {M0_ID_HEARTDT, B_HEART},
    {M0_ID_REGEN, B_HEART},   {M0_ID_REGTCP, B_HEART},    {M0_ID_REGUSR, B_HEART},
    {M0_ID_HTPCHD, B_HEART},
};
#define NCARRIED (sizeof carried / sizeof carried[0])

static const struct {
  uint8_t cmd;
  size_t len;
  const char *name;
} blocks[B_COUNT] = {
    [B_BASIC] = {M0_UDP1500_BASIC, M0_UDP1500_BASIC_LEN, "basic settings"},
    [B_PORT] = {M0_UDP1500_PORT0, M0_UDP1500_PORT_BLOCK_LEN, "port settings"},
    [B_HEART] = {M0_UDP1500_HEART, M0_UDP1500_HEART_LEN, "heartbeat/registration"},
};

struct session {
  const struct m0ctl_cmd *cmd;
  int fd;
  struct target t;
  uint8_t mac[6];
  const char *user, *pass;
};

static void encode(enum block b, const struct m0_config *c, const uint8_t mac[6], uint8_t *out) {
  if (b == B_BASIC)
    m0_udp1500_basic_block(c, mac, out);
  else if (b == B_PORT)
    m0_udp1500_port_block(c, out);
  else
    m0_udp1500_heart_block(c, out);
}

static int decode(enum block b, const uint8_t *in, const struct m0_config *cur,
                  struct m0_udp1500_settings *s) {
  if (b == B_BASIC)
    return m0_udp1500_basic_settings(in, cur, s);
  if (b == B_PORT)
    return m0_udp1500_port_settings(in, cur, s);
  return m0_udp1500_heart_settings(in, cur, s);
}

static const char *status_text(uint8_t status) {
  switch (status) {
  case M0_UDP1500_OK:
    return "ok";
  case M0_UDP1500_DENIED:
    return "refused: wrong user name or password";
  case M0_UDP1500_ERROR:
    return "refused (bad checksum, a value the module does not take, or unsupported)";
  default:
    return "unknown status";
  }
}

/* Send one authenticated command and wait for its 4-byte status. Prints the reply. */
static int command(struct session *s, uint8_t cmd, const char *what, const uint8_t *params,
                   size_t plen) {
  uint8_t req[M0_UDP1500_REQUEST_MAX], buf[2048];
  size_t n = m0_udp1500_request(req, sizeof req, cmd, s->mac, s->user, s->pass, params, plen);
  uint64_t deadline;
  if (n == 0 || send_to(s->cmd, s->fd, &s->t, req, n) != 0)
    return M0CTL_FAIL;
  deadline = now_ms() + s->t.timeout_ms;
  for (;;) {
    struct sockaddr_in from;
    ssize_t len = receive(s->fd, deadline, buf, sizeof buf, &from);
    if (len < 0)
      return m0ctl_fail(s->cmd, "receive: %s", strerror(errno));
    if (len == 0)
      return m0ctl_fail(s->cmd, "%s: no answer from %s:%u within %u ms", what, s->t.to,
                        ntohs(s->t.addr.sin_port), s->t.timeout_ms);
    if (len == M0_UDP1500_STATUS_LEN && buf[0] == M0_UDP1500_TAG && buf[1] == 0x01 &&
        buf[2] == cmd) {
      printf("%s (%02X): %02X %02X %02X %02X %s\n", what, cmd, buf[0], buf[1], buf[2], buf[3],
             status_text(buf[3]));
      return buf[3] == M0_UDP1500_OK ? M0CTL_OK : M0CTL_FAIL;
    }
  }
}

/* The read (cmd 03): the basic and port blocks (130 bytes, or the 193-byte single
 * datagram of the industrial line, then without the heartbeat block) and the heartbeat
 * block (84). */
static int read_blocks(struct session *s, uint8_t basic[M0_UDP1500_BASIC_LEN],
                       uint8_t port[M0_UDP1500_PORT_BLOCK_LEN],
                       uint8_t heart[M0_UDP1500_HEART_LEN], bool *have_heart) {
  uint8_t req[64], buf[2048];
  size_t n = m0_udp1500_request(req, sizeof req, M0_UDP1500_READ, s->mac, s->user, s->pass,
                                NULL, 0);
  uint64_t deadline;
  bool have_main = false;
  *have_heart = false;
  if (send_to(s->cmd, s->fd, &s->t, req, n) != 0)
    return M0CTL_FAIL;
  deadline = now_ms() + s->t.timeout_ms;
  while (!(have_main && *have_heart)) {
    struct sockaddr_in from;
    ssize_t len = receive(s->fd, deadline, buf, sizeof buf, &from);
    if (len < 0)
      return m0ctl_fail(s->cmd, "receive: %s", strerror(errno));
    if (len == 0)
      break;
    if (len == M0_UDP1500_STATUS_LEN && buf[0] == M0_UDP1500_TAG && buf[2] == M0_UDP1500_READ) {
      printf("read (03): %02X %02X %02X %02X %s\n", buf[0], buf[1], buf[2], buf[3],
             status_text(buf[3]));
      return M0CTL_FAIL;
    }
    if (len == M0_UDP1500_BASIC_LEN + M0_UDP1500_PORT_BLOCK_LEN ||
        len == M0_UDP1500_BASIC_LEN + 2 * M0_UDP1500_PORT_BLOCK_LEN) {
      memcpy(basic, buf, M0_UDP1500_BASIC_LEN);
      memcpy(port, buf + M0_UDP1500_BASIC_LEN, M0_UDP1500_PORT_BLOCK_LEN);
      have_main = true;
      if (len > M0_UDP1500_BASIC_LEN + M0_UDP1500_PORT_BLOCK_LEN)
        break; /* the single-datagram form has no heartbeat block */
    } else if (len == M0_UDP1500_HEART_LEN) {
      memcpy(heart, buf, M0_UDP1500_HEART_LEN);
      *have_heart = true;
    }
  }
  if (!have_main)
    return m0ctl_fail(s->cmd, "read: no answer from %s:%u within %u ms (MAC, address?)",
                      s->t.to, ntohs(s->t.addr.sin_port), s->t.timeout_ms);
  return M0CTL_OK;
}

static bool carries(enum m0_param_id id, enum block *b) {
  unsigned i;
  for (i = 0; i < NCARRIED; i++) {
    if (carried[i].id == id) {
      *b = carried[i].block;
      return true;
    }
  }
  return false;
}

static int netset(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {
      {"to", required_argument, NULL, OPT_TO},
      {"port", required_argument, NULL, OPT_PORT},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"mac", required_argument, NULL, OPT_MAC},
      {"user", required_argument, NULL, OPT_USER},
      {"password", required_argument, NULL, OPT_PASSWORD},
      {"no-restart", no_argument, NULL, OPT_NO_RESTART},
      {"read", no_argument, NULL, OPT_READ},
      {"default", no_argument, NULL, OPT_DEFAULT},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0},
  };
  struct common c = {"255.255.255.255", M0_UDP1500_PORT, DEFAULT_TIMEOUT_MS};
  struct session s = {.cmd = cmd, .fd = -1, .user = "admin", .pass = "admin"};
  uint8_t raw[B_COUNT][M0_UDP1500_HEART_LEN];
  bool have[B_COUNT] = {true, true, false}, changed[B_COUNT] = {false, false, false};
  bool restart = true, read_only = false, defaults = false, any = false, have_mac = false;
  struct m0_config was, want;
  unsigned i;
  int opt, rc;
  optind = 0;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
    if ((rc = common_option(cmd, opt, optarg, &c)) > 1)
      return rc - 100;
    if (rc == 1)
      continue;
    switch (opt) {
    case OPT_MAC: {
      char hex[13];
      size_t k, j = 0;
      for (k = 0; optarg[k] != '\0' && j < 13; k++) {
        if (optarg[k] != ':' && optarg[k] != '-')
          hex[j++] = optarg[k];
      }
      hex[j < 13 ? j : 12] = '\0';
      if (j != 12 || optarg[k] != '\0' || m0_udp1500_mac_parse(hex, s.mac) != 0)
        return m0ctl_usage(cmd, "--mac: expected 12 hex digits (e.g. D8B04C000001), got '%s'",
                           optarg);
      have_mac = true;
      break;
    }
    case OPT_USER:
    case OPT_PASSWORD:
      if (strlen(optarg) > M0_UDP1500_CRED_LEN)
        return m0ctl_usage(cmd, "--%s: at most %d bytes go on the wire, got '%s'",
                           opt == OPT_USER ? "user" : "password", M0_UDP1500_CRED_LEN, optarg);
      if (opt == OPT_USER)
        s.user = optarg;
      else
        s.pass = optarg;
      break;
    case OPT_NO_RESTART:
      restart = false;
      break;
    case OPT_READ:
      read_only = true;
      break;
    case OPT_DEFAULT:
      defaults = true;
      break;
    case OPT_HELP:
      m0ctl_cmd_help(cmd, stdout);
      return M0CTL_OK;
    default:
      return bad_option(cmd, longs, opt, argv);
    }
  }
  if (!have_mac)
    return m0ctl_usage(cmd, "--mac is required (the module's MAC: m0ctl search shows it)");
  if ((read_only || defaults) && optind < argc)
    return m0ctl_usage(cmd, "--%s takes no NAME=VALUE", read_only ? "read" : "default");
  if (read_only && defaults)
    return m0ctl_usage(cmd, "--read and --default exclude each other");
  if (!read_only && !defaults && optind == argc)
    return m0ctl_usage(cmd, "nothing to set: give NAME=VALUE (or --read, --default)");
  if ((rc = make_target(cmd, &c, &s.t)) != 0)
    return rc;

  /* Check every NAME=VALUE against the table before anything goes on the wire. */
  m0_config_defaults(&want);
  for (i = (unsigned)optind; i < (unsigned)argc; i++) {
    const char *eq = strchr(argv[i], '=');
    const struct m0_param *p = eq != NULL ? m0_param_find(argv[i], (size_t)(eq - argv[i])) : NULL;
    enum block b;
    if (eq == NULL)
      return m0ctl_usage(cmd, "expected NAME=VALUE, got '%s'", argv[i]);
    if (p == NULL || !carries(p->id, &b))
      return m0ctl_usage(cmd, "'%.*s' cannot be set over UDP 1500 (the FF blocks carry: WANN "
                         "WEBPORT WEBU MID CLIENTRST SCSLINK INDEXEN RFCEN UART SOCK SOCKPORT "
                         "HTPTP MAXSK HEARTEN HEARTTP HEARTTM HEARTDT REGEN REGTCP REGUSR HTPCHD)",
                         (int)(eq - argv[i]), argv[i]);
    if (m0_param_set(p, &want, eq + 1, strlen(eq + 1)) != 0)
      return m0ctl_usage(cmd, "%s: invalid value '%s' (see AT+%s in docs/at-commands.md)",
                         p->name, eq + 1, p->name);
  }

  s.fd = open_socket(cmd);
  if (s.fd < 0)
    return M0CTL_FAIL;
  if (defaults) {
    rc = command(&s, M0_UDP1500_DEFAULT, "factory default", NULL, 0);
    if (rc == M0CTL_OK && restart)
      rc = command(&s, M0_UDP1500_RESTART, "restart", NULL, 0);
    close(s.fd);
    return rc;
  }
  rc = read_blocks(&s, raw[B_BASIC], raw[B_PORT], raw[B_HEART], &have[B_HEART]);
  if (rc != M0CTL_OK) {
    close(s.fd);
    return rc;
  }
  /* What the module holds, as far as the table takes it. */
  m0_config_defaults(&was);
  for (i = 0; i < B_COUNT; i++) {
    struct m0_udp1500_settings st;
    unsigned k;
    if (!have[i])
      continue;
    if (decode((enum block)i, raw[i], &was, &st) != 0) {
      fprintf(stderr, "m0ctl netset: warning: the module's %s has a field m0ctl cannot read "
                      "(%s): written back as read\n", blocks[i].name, st.bad);
      continue;
    }
    for (k = 0; k < st.n; k++) {
      const struct m0_param *p = &m0_params[st.s[k].id];
      if (m0_param_set(p, &was, st.s[k].value, strlen(st.s[k].value)) != 0)
        fprintf(stderr, "m0ctl netset: warning: the module's %s=%s is outside the M0's "
                        "range: kept as read unless set\n", p->name, st.s[k].value);
    }
  }
  if (read_only) {
    char mac[13], value[M0_VALUE_MAX];
    mac_text(raw[B_BASIC] + 53, mac);
    printf("MAC=%s\n", mac);
    for (i = 0; i < NCARRIED; i++) {
      if (!have[carried[i].block])
        continue;
      m0_param_format(&m0_params[carried[i].id], &was, M0_DIALECT_DOC, value, sizeof value);
      printf("%s=%s\n", m0_params[carried[i].id].name, value);
    }
    close(s.fd);
    return M0CTL_OK;
  }
  /* The wanted values on top of what the module holds, through the table again. */
  want = was;
  for (i = (unsigned)optind; i < (unsigned)argc; i++) {
    const char *eq = strchr(argv[i], '=');
    const struct m0_param *p = m0_param_find(argv[i], (size_t)(eq - argv[i]));
    enum block b = B_BASIC;
    (void)m0_param_set(p, &want, eq + 1, strlen(eq + 1)); /* checked above */
    (void)carries(p->id, &b);
    if (!have[b]) {
      close(s.fd);
      return m0ctl_fail(cmd, "%s: the module sent no %s block", p->name, blocks[b].name);
    }
  }
  for (i = 0; i < B_COUNT && rc == M0CTL_OK; i++) {
    uint8_t old_enc[M0_UDP1500_HEART_LEN], new_enc[M0_UDP1500_HEART_LEN], out[M0_UDP1500_HEART_LEN];
    struct m0_udp1500_settings st;
    struct m0_config check = was;
    size_t k, len = blocks[i].len;
    unsigned j;
    if (!have[i])
      continue;
    encode((enum block)i, &was, raw[B_BASIC] + 53, old_enc);
    encode((enum block)i, &want, raw[B_BASIC] + 53, new_enc);
    if (memcmp(old_enc, new_enc, len) == 0)
      continue;
    /* Does it survive the block? (HEARTTM > 255, a user name of 7 bytes, REGEN=mac.) */
    if (decode((enum block)i, new_enc, &was, &st) != 0 ||
        m0_udp1500_settings_apply(&st, &check, NULL) != 0)
      rc = M0CTL_USAGE;
    for (j = 0; j < NCARRIED && rc == M0CTL_OK; j++) {
      char a[M0_VALUE_MAX], b[M0_VALUE_MAX];
      const struct m0_param *p = &m0_params[carried[j].id];
      if (carried[j].block != (enum block)i)
        continue;
      m0_param_format(p, &check, M0_DIALECT_DOC, a, sizeof a);
      m0_param_format(p, &want, M0_DIALECT_DOC, b, sizeof b);
      if (strcmp(a, b) != 0) {
        m0ctl_usage(cmd, "%s=%s does not fit the %s block (it would read back as %s)", p->name,
                    b, blocks[i].name, a);
        rc = M0CTL_USAGE;
      }
    }
    if (rc != M0CTL_OK)
      break;
    /* As read, with only the bits that changed replaced. */
    for (k = 0; k < len; k++)
      out[k] = (uint8_t)(new_enc[k] ^ ((raw[i][k] ^ old_enc[k]) & ~(new_enc[k] ^ old_enc[k])));
    memcpy(raw[i], out, len);
    changed[i] = true;
  }
  for (i = 0; i < B_COUNT && rc == M0CTL_OK; i++) {
    if (!changed[i])
      continue;
    rc = command(&s, blocks[i].cmd, blocks[i].name, raw[i], blocks[i].len);
    any = true;
  }
  if (rc == M0CTL_OK && !any)
    printf("nothing to change: the module already holds these values\n");
  if (rc == M0CTL_OK && any && restart)
    rc = command(&s, M0_UDP1500_RESTART, "restart", NULL, 0);
  close(s.fd);
  return rc;
}

const struct m0ctl_cmd m0ctl_cmd_netset = {
    .name = "netset",
    .usage = "--mac MAC [--user U] [--password P] [--to ADDR] [--port PORT] [--timeout MS]\n"
             "           [--no-restart] NAME=VALUE... | --read | --default",
    .summary = "set a module's parameters over the network (FF protocol), then restart it",
    .help = "  --mac MAC       the module's MAC, 12 hex digits (m0ctl search shows it)\n"
            "  --user U        its web user name (default admin; at most 6 bytes)\n"
            "  --password P    its web password (default admin; at most 6 bytes)\n"
            "  --to ADDR       where to send (default 255.255.255.255; the MAC picks the "
            "module)\n"
            "  --port PORT     the module's port (default 1500)\n"
            "  --timeout MS    how long to wait for each reply (default 2000)\n"
            "  --no-restart    leave the new values saved, applied at the next restart\n"
            "  --read          print the module's settings as NAME=VALUE and change nothing\n"
            "  --default       restore the factory settings (then restart)\n"
            "NAME=VALUE takes AT syntax (AT+NAME=VALUE), e.g. MID=bench-2 SOCK=TCPS,0.0.0.0,23\n"
            "UART=9600,8,1,NONE,NFC. Only the blocks that change are written; each reply is\n"
            "printed. Exit 1 when the module refuses or does not answer.\n",
    .exec = netset,
};
