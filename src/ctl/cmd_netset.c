/* cmd_netset.c: m0ctl's `netset`: set a module's parameters over the FF protocol on UDP
 * 1500 (the codec is the core's, include/m0/udp1500.h, so the tool and the emulator read
 * every byte alike; socket and shared options: udp_io.h).
 *
 * The FF protocol's read-modify-write, as the vendor's tool does it: read the three
 * blocks (cmd 03: basic 67 bytes, port 63, heartbeat 84), apply NAME=VALUE through the AT
 * parameter table, write only the blocks that changed, then restart the module (cmd 02)
 * so the values apply. A block is written as read with only the changed bits replaced,
 * so fields m0ctl does not model (a real module's device ID, packing time, RS485 bit) go
 * back untouched. Every value is checked against the table before anything is sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "m0/params.h"
#include "m0/udp1500.h"
#include "udp_io.h"

enum { OPT_MAC = M0CTL_OPT_OWN, OPT_USER, OPT_PASSWORD, OPT_NO_RESTART, OPT_READ,
       OPT_DEFAULT };

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
  struct m0ctl_target t;
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
  if (n == 0 || m0ctl_send_to(s->cmd, s->fd, &s->t, req, n) != 0)
    return M0CTL_FAIL;
  deadline = m0ctl_now_ms() + s->t.timeout_ms;
  for (;;) {
    struct sockaddr_in from;
    ssize_t len = m0ctl_receive(s->fd, deadline, buf, sizeof buf, &from);
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
  if (m0ctl_send_to(s->cmd, s->fd, &s->t, req, n) != 0)
    return M0CTL_FAIL;
  deadline = m0ctl_now_ms() + s->t.timeout_ms;
  while (!(have_main && *have_heart)) {
    struct sockaddr_in from;
    ssize_t len = m0ctl_receive(s->fd, deadline, buf, sizeof buf, &from);
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
      {"to", required_argument, NULL, M0CTL_OPT_TO},
      {"port", required_argument, NULL, M0CTL_OPT_PORT},
      {"timeout", required_argument, NULL, M0CTL_OPT_TIMEOUT},
      {"mac", required_argument, NULL, OPT_MAC},
      {"user", required_argument, NULL, OPT_USER},
      {"password", required_argument, NULL, OPT_PASSWORD},
      {"no-restart", no_argument, NULL, OPT_NO_RESTART},
      {"read", no_argument, NULL, OPT_READ},
      {"default", no_argument, NULL, OPT_DEFAULT},
      {"help", no_argument, NULL, M0CTL_OPT_HELP},
      {NULL, 0, NULL, 0},
  };
  struct m0ctl_common c = {"255.255.255.255", M0_UDP1500_PORT, M0CTL_TIMEOUT_MS};
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
    if ((rc = m0ctl_common_option(cmd, opt, optarg, &c)) > 1)
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
    case M0CTL_OPT_HELP:
      m0ctl_cmd_help(cmd, stdout);
      return M0CTL_OK;
    default:
      return m0ctl_bad_option(cmd, longs, opt, argv);
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
  if ((rc = m0ctl_make_target(cmd, &c, &s.t)) != 0)
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

  s.fd = m0ctl_open_socket(cmd);
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
    m0ctl_mac_text(raw[B_BASIC] + 53, mac);
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
