/* udp1500_dev.c: what the device does with each datagram on UDP port 1500 (the vendor's
 * setup protocols; codec in udp1500*.c, decisions in docs/conformance.md).
 *
 * One function decides, per datagram: silence or a reply, and which settings to write.
 * The checks run in the order that keeps a LAN of modules quiet: nothing is answered
 * while booting, to the device itself, to anything that looks like a reply (a module's
 * own broadcast reply, a status `FF 01 xx yy`), to a wrong FF length, or to a command
 * for another MAC; only a datagram carrying this module's MAC gets an error reply
 * (`FF 01 <cmd> 45` for a bad checksum, `50` for wrong credentials), so two modules can
 * never answer each other forever. The search and the T24 search need no MAC and are
 * answered at once.
 *
 * Writes (FF basic, port, heartbeat blocks and factory default; the T24 set) go through
 * the parameter table (m0_dev_edit_set, all or nothing) and the one flash path, and are
 * answered once flash has the new configuration; they apply at the next restart, like
 * AT. The T24 set restarts the device once saved (its tool checks the new values a few
 * seconds later). Reads describe the saved configuration (what AT answers); the FF
 * search describes the running module (its name and current address).
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "m0/json.h"
#include "m0/udp1500.h"

/* One datagram being handled. */
struct rx {
  struct m0_dev *dev;
  uint64_t now;
  const uint8_t *data;
  size_t len;
  const struct m0_net_addr *from;
  uint8_t ip[4];  /* the module's address, as its search reply says */
  uint8_t mac[6]; /* the factory MAC */
  const char *proto, *cmd; /* for the event, once known */
};

static const char *cmd_name(uint8_t cmd) {
  switch (cmd) {
  case M0_UDP1500_SEARCH:
    return "search";
  case M0_UDP1500_RESTART:
    return "restart";
  case M0_UDP1500_READ:
    return "read";
  case M0_UDP1500_SAVE:
    return "save";
  case M0_UDP1500_BASIC:
    return "basic";
  case M0_UDP1500_PORT0:
    return "port";
  case M0_UDP1500_DEFAULT:
    return "default";
  case M0_UDP1500_CLOUD:
    return "cloud";
  case M0_UDP1500_HEART:
    return "heart";
  default:
    return "unknown";
  }
}

static void addr_json(char *buf, size_t cap, const struct m0_net_addr *a) {
  char text[sizeof a->host + 8];
  snprintf(text, sizeof text, "%s:%u", a->host, (unsigned)a->port);
  m0_json_string(buf, cap, text);
}

static size_t send_to(struct m0_dev *dev, const struct m0_net_addr *to, const uint8_t *data,
                      size_t len) {
  if (dev->hal->udp1500_send == NULL || to->port == 0)
    return 0;
  dev->hal->udp1500_send(dev->ctx, data, len, to);
  return len;
}

static size_t send_status(struct m0_dev *dev, const struct m0_net_addr *to, uint8_t cmd,
                          uint8_t status) {
  const uint8_t reply[M0_UDP1500_STATUS_LEN] = {M0_UDP1500_TAG, 0x01, cmd, status};
  return send_to(dev, to, reply, sizeof reply);
}

static void accepted_event(struct m0_dev *dev, const struct m0_net_addr *from, const char *proto,
                           const char *cmd, size_t bytes, size_t reply) {
  char where[80];
  dev->udp1500.accepted++;
  addr_json(where, sizeof where, from);
  m0__dev_event(dev, "udp1500.accepted",
                "\"from\":%s,\"proto\":\"%s\",\"cmd\":\"%s\",\"bytes\":%zu,\"reply\":%zu", where,
                proto, cmd, bytes, reply);
}

/* The datagram changes nothing; `reply` bytes went back (0: silence). param: the value
 * or field refused, or NULL. */
static void rejected_event(struct m0_dev *dev, const struct m0_net_addr *from, const char *proto,
                           const char *cmd, size_t bytes, const char *reason, size_t reply,
                           const char *param) {
  char where[80], extra[128] = "", name[64];
  int n = 0;
  dev->udp1500.rejected++;
  addr_json(where, sizeof where, from);
  if (proto != NULL)
    n = snprintf(extra, sizeof extra, ",\"proto\":\"%s\",\"cmd\":\"%s\"", proto, cmd);
  if (param != NULL && n >= 0 && (size_t)n < sizeof extra) {
    m0_json_string(name, sizeof name, param);
    snprintf(extra + n, sizeof extra - (size_t)n, ",\"param\":%s", name);
  }
  m0__dev_event(dev, "udp1500.rejected", "\"from\":%s,\"bytes\":%zu,\"reason\":\"%s\",\"reply\":%zu%s",
                where, bytes, reason, reply, extra);
}

static void reject(struct rx *r, const char *reason) {
  rejected_event(r->dev, r->from, r->proto, r->cmd, r->len, reason, 0, NULL);
}

/* An FF error reply to a datagram that named this module. */
static void refuse(struct rx *r, uint8_t status, const char *reason, const char *param) {
  size_t n = send_status(r->dev, r->from, r->data[2], status);
  rejected_event(r->dev, r->from, r->proto, r->cmd, r->len, reason, n, param);
}

static void accept(struct rx *r, size_t reply) {
  accepted_event(r->dev, r->from, r->proto, r->cmd, r->len, reply);
}

/* ---- replies built from the configuration ---- */

static void t24_reply(struct m0_dev *dev, const uint8_t mac[6], uint8_t out[M0_UDP1500_T24_REPLY_LEN]) {
  uint8_t block[M0_UDP1500_T24_BLOCK_LEN];
  m0_udp1500_t24_block(&dev->saved, block);
  m0_udp1500_t24_reply(out, mac, (uint8_t)m0_udp1500_version(dev->options.factory.ver), block);
}

static void ff_search(struct rx *r) {
  struct m0_udp1500_ident id;
  uint8_t reply[M0_UDP1500_SEARCH_REPLY_LEN];
  memset(&id, 0, sizeof id);
  memcpy(id.ip, r->ip, 4);
  memcpy(id.mac, r->mac, 6);
  id.version = m0_udp1500_version(r->dev->options.factory.ver);
  snprintf(id.name, sizeof id.name, "%s", r->dev->running.mid);
  m0_udp1500_search_reply(reply, &id);
  accept(r, send_to(r->dev, r->from, reply, sizeof reply));
}

/* The read reply: 130 bytes (basic + port block), 50 (unidentified: zeros), 84 (heartbeat
 * and registration), in three datagrams (302 manual). */
static void ff_read(struct rx *r) {
  uint8_t first[M0_UDP1500_BASIC_LEN + M0_UDP1500_PORT_BLOCK_LEN];
  uint8_t gap[M0_UDP1500_READ_GAP_LEN];
  uint8_t heart[M0_UDP1500_HEART_LEN];
  size_t n = 0;
  m0_udp1500_basic_block(&r->dev->saved, r->mac, first);
  m0_udp1500_port_block(&r->dev->saved, first + M0_UDP1500_BASIC_LEN);
  memset(gap, 0, sizeof gap);
  m0_udp1500_heart_block(&r->dev->saved, heart);
  n += send_to(r->dev, r->from, first, sizeof first);
  n += send_to(r->dev, r->from, gap, sizeof gap);
  n += send_to(r->dev, r->from, heart, sizeof heart);
  accept(r, n);
}

/* ---- writes ---- */

/* Hand the edit (or, defaults, the factory configuration) to flash; the reply waits for
 * the outcome unless it is known at once. */
static void save(struct rx *r, bool t24, bool defaults) {
  struct m0_dev *dev = r->dev;
  struct m0__udp1500 *u = &dev->udp1500;
  int rc;
  u->waiting = true;
  u->t24 = t24;
  u->cmd = t24 ? 0 : r->data[2];
  u->bytes = r->len;
  u->to = *r->from;
  rc = defaults ? m0__dev_save_defaults(dev, M0__SAVE_UDP1500)
                : m0__dev_edit_save_as(dev, M0__SAVE_UDP1500);
  if (rc != M0_PENDING)
    m0__udp1500_saved(dev, r->now, rc);
}

/* Decoded settings through the table, all or nothing, then flash. */
static void write_settings(struct rx *r, int decoded, const struct m0_udp1500_settings *s,
                           bool t24) {
  struct m0_dev *dev = r->dev;
  unsigned i;
  if (dev->save.busy) {
    /* Another write (AT, the web page, an earlier datagram) is in flight. */
    if (t24)
      reject(r, "busy");
    else
      refuse(r, M0_UDP1500_ERROR, "busy", NULL);
    return;
  }
  if (decoded != 0) {
    if (t24)
      rejected_event(dev, r->from, r->proto, r->cmd, r->len, "invalid", 0, s->bad);
    else
      refuse(r, M0_UDP1500_ERROR, "invalid", s->bad);
    return;
  }
  m0_dev_edit_begin(dev);
  for (i = 0; i < s->n; i++) {
    const char *name = m0_params[s->s[i].id].name;
    if (m0_dev_edit_set(dev, name, s->s[i].value) != 0) {
      m0_dev_edit_begin(dev); /* forget what was taken: nothing is written */
      if (t24)
        rejected_event(dev, r->from, r->proto, r->cmd, r->len, "invalid", 0, name);
      else
        refuse(r, M0_UDP1500_ERROR, "invalid", name);
      return;
    }
  }
  save(r, t24, false);
}

void m0__udp1500_saved(struct m0_dev *dev, uint64_t now, int rc) {
  struct m0__udp1500 *u = &dev->udp1500;
  const char *proto = u->t24 ? "t24" : "ff";
  const char *cmd = u->t24 ? "set" : cmd_name(u->cmd);
  if (!u->waiting)
    return;
  u->waiting = false;
  if (u->t24) {
    uint8_t reply[M0_UDP1500_T24_REPLY_LEN], mac[6];
    if (rc != 0) {
      rejected_event(dev, &u->to, proto, cmd, u->bytes, "flash", 0, NULL);
      return;
    }
    (void)m0_udp1500_mac_parse(dev->options.factory.mac, mac);
    t24_reply(dev, mac, reply); /* the new values: what its tool checks after the restart */
    accepted_event(dev, &u->to, proto, cmd, u->bytes, send_to(dev, &u->to, reply, sizeof reply));
    m0__dev_restart_now(dev, now, "udp1500");
    return;
  }
  if (rc != 0) {
    size_t n = send_status(dev, &u->to, u->cmd, M0_UDP1500_ERROR);
    rejected_event(dev, &u->to, proto, cmd, u->bytes, "flash", n, NULL);
    return;
  }
  accepted_event(dev, &u->to, proto, cmd, u->bytes,
                 send_status(dev, &u->to, u->cmd, M0_UDP1500_OK));
}

/* ---- the FF protocol ---- */

/* A 6-byte credential field against the configured value: equal up to the field's first
 * NUL (a value longer than 6 bytes can never match). */
static bool cred_ok(const uint8_t *field, const char *want) {
  size_t n = 0;
  while (n < M0_UDP1500_CRED_LEN && field[n] != 0)
    n++;
  return strlen(want) == n && memcmp(field, want, n) == 0;
}

static void ff(struct rx *r) {
  struct m0_dev *dev = r->dev;
  struct m0_udp1500_ident ident;
  struct m0_udp1500_settings s;
  const uint8_t *params;
  size_t plen;
  uint8_t cmd;
  int decoded;
  r->proto = "ff";
  if (r->len < M0_UDP1500_STATUS_LEN) {
    r->cmd = r->len >= 3 ? cmd_name(r->data[2]) : "unknown";
    reject(r, "short");
    return;
  }
  cmd = r->data[2];
  r->cmd = cmd_name(cmd);
  /* Replies of modules (this one's own broadcast included) are not requests. */
  if (m0_udp1500_search_reply_parse(r->data, r->len, &ident) == 0 ||
      (r->len == M0_UDP1500_STATUS_LEN && r->data[1] == 0x01 && cmd != M0_UDP1500_SEARCH)) {
    reject(r, "reply");
    return;
  }
  if (r->data[1] != r->len - 3) {
    reject(r, "length");
    return;
  }
  if (cmd == M0_UDP1500_SEARCH) {
    if (r->len != sizeof m0_udp1500_ff_search)
      reject(r, "length");
    else if (r->data[3] != m0_udp1500_sum(r->data + 1, 2))
      reject(r, "checksum"); /* names no module: no error reply */
    else
      ff_search(r);
    return;
  }
  if (r->data[1] < M0_UDP1500_AUTH_LEN) {
    reject(r, "short");
    return;
  }
  if (memcmp(r->data + 3, r->mac, 6) != 0) {
    reject(r, "mac");
    return;
  }
  if (r->data[r->len - 1] != m0_udp1500_sum(r->data + 1, r->len - 2)) {
    refuse(r, M0_UDP1500_ERROR, "checksum", NULL);
    return;
  }
  if (!cred_ok(r->data + 9, dev->running.webu_user) ||
      !cred_ok(r->data + 15, dev->running.webu_pass)) {
    refuse(r, M0_UDP1500_DENIED, "credentials", NULL);
    return;
  }
  plen = r->len - 3 - M0_UDP1500_AUTH_LEN;
  params = r->data + 2 + M0_UDP1500_AUTH_LEN; /* after FF LEN and CMD MAC user password */
  switch (cmd) {
  case M0_UDP1500_RESTART:
  case M0_UDP1500_READ:
  case M0_UDP1500_DEFAULT:
    if (plen != 0) {
      refuse(r, M0_UDP1500_ERROR, "params", NULL);
      return;
    }
    if (cmd == M0_UDP1500_READ) {
      ff_read(r);
    } else if (cmd == M0_UDP1500_RESTART) {
      accept(r, send_status(dev, r->from, cmd, M0_UDP1500_OK));
      m0__dev_restart_now(dev, r->now, "udp1500"); /* waits for a save in flight */
    } else if (dev->save.busy) {
      refuse(r, M0_UDP1500_ERROR, "busy", NULL);
    } else {
      save(r, false, true);
    }
    return;
  case M0_UDP1500_BASIC:
    if (plen != M0_UDP1500_BASIC_LEN)
      break;
    decoded = m0_udp1500_basic_settings(params, &dev->saved, &s);
    write_settings(r, decoded, &s, false);
    return;
  case M0_UDP1500_PORT0:
    if (plen != M0_UDP1500_PORT_BLOCK_LEN)
      break;
    decoded = m0_udp1500_port_settings(params, &dev->saved, &s);
    write_settings(r, decoded, &s, false);
    return;
  case M0_UDP1500_HEART:
    if (plen != M0_UDP1500_HEART_LEN)
      break;
    decoded = m0_udp1500_heart_settings(params, &dev->saved, &s);
    write_settings(r, decoded, &s, false);
    return;
  default:
    refuse(r, M0_UDP1500_ERROR, "command", NULL);
    return;
  }
  refuse(r, M0_UDP1500_ERROR, "params", NULL);
}

/* ---- the similar-T24 protocol ---- */

static void t24(struct rx *r) {
  struct m0_udp1500_settings s;
  uint8_t pass[6] = {0};
  r->proto = "t24";
  if (memcmp(r->data, m0_udp1500_t24_search, sizeof m0_udp1500_t24_search) == 0) {
    uint8_t reply[M0_UDP1500_T24_REPLY_LEN];
    r->cmd = "search";
    t24_reply(r->dev, r->mac, reply);
    accept(r, send_to(r->dev, r->from, reply, sizeof reply));
    return;
  }
  r->cmd = "set";
  if (memcmp(r->data, r->mac, 6) != 0) {
    reject(r, "mac");
    return;
  }
  memcpy(pass, M0_UDP1500_T24_PASSWORD, 6);
  if (memcmp(r->data + 6, pass, 6) != 0) {
    reject(r, "password");
    return;
  }
  write_settings(r, m0_udp1500_t24_settings(r->data + 12, &r->dev->saved, &s), &s, true);
}

/* ---- the input ---- */

/* The module's address: the board's, else WANN's static address. */
static void own_ip(const struct m0_dev *dev, const struct m0_net_addr *here, uint8_t ip[4]) {
  if (here != NULL && m0_udp1500_ipv4_parse(here->host, ip) == 0 &&
      (ip[0] | ip[1] | ip[2] | ip[3]) != 0)
    return;
  memcpy(ip, dev->running.wann_ip, 4);
}

static bool from_self(const struct rx *r, const struct m0_net_addr *here) {
  uint8_t ip[4];
  return here != NULL && r->from->port == here->port &&
         m0_udp1500_ipv4_parse(r->from->host, ip) == 0 && memcmp(ip, r->ip, 4) == 0;
}

void m0_dev_on_udp1500(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len,
                       const struct m0_net_addr *from, const struct m0_net_addr *here) {
  struct rx r = {.dev = dev, .now = now, .data = data, .len = len, .from = from};
  m0__dev_catch_up(dev, now);
  own_ip(dev, here, r.ip);
  if (m0_udp1500_mac_parse(dev->options.factory.mac, r.mac) != 0)
    memset(r.mac, 0, sizeof r.mac);
  if (dev->mode == M0_MODE_BOOTING)
    reject(&r, "booting"); /* the module's network is not up yet */
  else if (from_self(&r, here))
    reject(&r, "self");
  else if (len > 0 && data[0] == M0_UDP1500_TAG)
    ff(&r);
  else if (len == M0_UDP1500_T24_REQUEST_LEN)
    t24(&r);
  else if (len == M0_UDP1500_T24_REPLY_LEN)
    reject(&r, "reply"); /* a T24 reply: some module's, perhaps this one's own */
  else
    reject(&r, "unknown");
  m0__dev_settle(dev, now);
}
