/* fuzz_udp1500.c: any datagrams into a booted device's UDP 1500 input.
 *
 * Input: one flags byte, then datagrams, each behind a length byte. Flags bit 0 makes
 * flash fail; bits 1 and 2 let the harness give FF datagrams this module's MAC and
 * credentials (and a right checksum) and T24 sets its MAC and password, so the fuzzer
 * reaches the writes instead of stopping at the authentication. After every datagram:
 *  - exactly one udp1500.accepted or udp1500.rejected event (flash answers at once here);
 *  - every reply has a documented length: 4 (`FF 01 <cmd> K|P|E`), 36 (a search reply
 *    whose checksum verifies), 35 (T24), or the read's 130, 50, 84;
 *  - a rejected datagram changed neither the saved nor the running configuration nor
 *    restarted the device, and got at most one 4-byte status reply about its command;
 *  - an accepted write is a fixed point: its block decoded again against the new saved
 *    configuration changes nothing more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m0/dev.h"
#include "m0/udp1500.h"

static struct m0_dev dev;
static bool flash_fails;
static unsigned events_udp, accepted;
static unsigned replies;
static size_t reply_len[8];
static uint8_t reply0[8];
static uint64_t timer_at = M0_TIME_NEVER;

static size_t uart_write(void *ctx, const uint8_t *d, size_t n) {
  (void)ctx, (void)d;
  return n;
}
static void uart_rx_enable(void *ctx, bool e) { (void)ctx, (void)e; }
static void timer_arm(void *ctx, uint64_t when) {
  (void)ctx;
  timer_at = when;
}
static void flash_save(void *ctx, const char *text, size_t len) {
  (void)ctx, (void)text, (void)len;
  m0_dev_on_flash_saved(&dev, 0, flash_fails ? -5 : 0); /* within the call */
}
static void booted(void *ctx, const struct m0_config *c) { (void)ctx, (void)c; }
static void event(void *ctx, const char *name, const char *fields) {
  (void)ctx, (void)fields;
  if (strncmp(name, "udp1500.", 8) == 0) {
    events_udp++;
    if (strcmp(name, "udp1500.accepted") == 0)
      accepted++;
  }
}
static int link_open(void *ctx, unsigned id, const struct m0_link_open *r) {
  (void)ctx, (void)id, (void)r;
  return 0;
}
static long link_send(void *ctx, unsigned id, const uint8_t *d, size_t n,
                      const struct m0_net_addr *to) {
  (void)ctx, (void)id, (void)d, (void)n, (void)to;
  return 0;
}
static void link_close(void *ctx, unsigned id) { (void)ctx, (void)id; }
static void link_pause(void *ctx, unsigned id, bool p) { (void)ctx, (void)id, (void)p; }

static void udp_send(void *ctx, const uint8_t *d, size_t n, const struct m0_net_addr *to) {
  (void)ctx;
  if (to == NULL || to->port == 0)
    abort();
  switch (n) {
  case M0_UDP1500_STATUS_LEN:
    if (d[0] != 0xFF || d[1] != 0x01 ||
        (d[3] != M0_UDP1500_OK && d[3] != M0_UDP1500_DENIED && d[3] != M0_UDP1500_ERROR))
      abort();
    break;
  case M0_UDP1500_SEARCH_REPLY_LEN: {
    struct m0_udp1500_ident id;
    if (m0_udp1500_search_reply_parse(d, n, &id) != 0 || !id.sum_ok)
      abort();
    break;
  }
  case M0_UDP1500_T24_REPLY_LEN: {
    struct m0_udp1500_t24 t;
    if (m0_udp1500_t24_parse(d, n, &t) != 0)
      abort();
    break;
  }
  case M0_UDP1500_BASIC_LEN + M0_UDP1500_PORT_BLOCK_LEN:
  case M0_UDP1500_READ_GAP_LEN:
  case M0_UDP1500_HEART_LEN:
    break;
  default:
    abort();
  }
  if (replies < 8) {
    reply_len[replies] = n;
    reply0[replies] = n > 2 ? d[2] : 0;
  }
  replies++;
}

static const struct m0_hal hal = {
    .uart_write = uart_write, .uart_rx_enable = uart_rx_enable, .timer_arm = timer_arm,
    .flash_save = flash_save, .booted = booted, .event = event, .link_open = link_open,
    .link_send = link_send, .link_close = link_close, .link_pause = link_pause,
    .udp1500_send = udp_send,
};

static uint64_t now;

static void advance(uint64_t ns) {
  now += ns;
  if (timer_at <= now)
    m0_dev_on_timer(&dev, now);
}

/* Give an FF datagram this module's MAC and credentials and fix its checksum. */
static void authenticate(uint8_t *d, size_t n, const uint8_t mac[6]) {
  const struct m0_config *c = m0_dev_running(&dev);
  if (n < 3 + M0_UDP1500_AUTH_LEN || d[0] != 0xFF)
    return;
  memcpy(d + 3, mac, 6);
  memset(d + 9, 0, 12);
  memcpy(d + 9, c->webu_user, strlen(c->webu_user) < 6 ? strlen(c->webu_user) : 6);
  memcpy(d + 15, c->webu_pass, strlen(c->webu_pass) < 6 ? strlen(c->webu_pass) : 6);
  d[1] = (uint8_t)(n - 3);
  d[n - 1] = m0_udp1500_sum(d + 1, n - 2);
}

/* The block an accepted write carried, decoded against what is saved now: nothing left
 * to change. */
static void check_fixed_point(const uint8_t *d, size_t n) {
  struct m0_udp1500_settings s;
  struct m0_config cfg = *m0_dev_saved(&dev);
  const struct m0_config before = cfg;
  int rc = -1;
  if (n == M0_UDP1500_T24_REQUEST_LEN && d[0] != 0xFF &&
      memcmp(d, m0_udp1500_t24_search, n) != 0)
    rc = m0_udp1500_t24_settings(d + 12, &cfg, &s);
  else if (n > 21 && d[0] == 0xFF && d[2] == M0_UDP1500_BASIC && n == 22 + M0_UDP1500_BASIC_LEN)
    rc = m0_udp1500_basic_settings(d + 21, &cfg, &s);
  else if (n > 21 && d[0] == 0xFF && d[2] == M0_UDP1500_PORT0 &&
           n == 22 + M0_UDP1500_PORT_BLOCK_LEN)
    rc = m0_udp1500_port_settings(d + 21, &cfg, &s);
  else if (n > 21 && d[0] == 0xFF && d[2] == M0_UDP1500_HEART && n == 22 + M0_UDP1500_HEART_LEN)
    rc = m0_udp1500_heart_settings(d + 21, &cfg, &s);
  else
    return;
  if (rc != 0 || m0_udp1500_settings_apply(&s, &cfg, NULL) != 0 ||
      memcmp(&cfg, &before, sizeof cfg) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const struct m0_net_addr from = {"192.168.0.100", 40000};
  static const struct m0_net_addr here = {"192.168.0.7", 1500};
  struct m0_dev_options o;
  struct m0_config cfg;
  uint8_t mac[6], flags;
  size_t pos = 1;
  if (size < 1)
    return 0;
  flags = data[0];
  flash_fails = (flags & 1) != 0;
  memset(&o, 0, sizeof o);
  memcpy(o.factory.mac, "D8B04C000001", 13);
  memcpy(o.factory.ver, "V4017", 6);
  o.timing = M0_TIMING_FAST;
  o.boot_ns = 200 * M0_NS_PER_MS;
  m0_config_defaults(&cfg);
  (void)m0_udp1500_mac_parse(o.factory.mac, mac);
  now = M0_NS_PER_S;
  timer_at = M0_TIME_NEVER;
  m0_dev_init(&dev, &hal, NULL, &o, &cfg);
  m0_dev_start(&dev, now);
  advance(300 * M0_NS_PER_MS);
  while (pos < size) {
    uint8_t d[256];
    size_t n = data[pos++];
    struct m0_config saved, running;
    uint64_t restarts;
    unsigned acc;
    if (n > size - pos)
      n = size - pos;
    memcpy(d, data + pos, n);
    pos += n;
    if (flags & 2)
      authenticate(d, n, mac);
    if ((flags & 4) && n == M0_UDP1500_T24_REQUEST_LEN && d[0] != 0xFF) {
      memcpy(d, mac, 6);
      memcpy(d + 6, M0_UDP1500_T24_PASSWORD, 6);
    }
    saved = *m0_dev_saved(&dev);
    running = *m0_dev_running(&dev);
    restarts = m0_dev_counters(&dev)->restarts;
    events_udp = 0;
    replies = 0;
    acc = accepted;
    m0_dev_on_udp1500(&dev, now, d, n, &from, &here);
    if (events_udp != 1)
      abort();
    if (accepted == acc) { /* rejected */
      if (memcmp(&saved, m0_dev_saved(&dev), sizeof saved) != 0 ||
          memcmp(&running, m0_dev_running(&dev), sizeof running) != 0 ||
          m0_dev_counters(&dev)->restarts != restarts)
        abort();
      if (replies > 1 || (replies == 1 && (reply_len[0] != M0_UDP1500_STATUS_LEN ||
                                           n < 3 || reply0[0] != d[2])))
        abort();
    } else {
      check_fixed_point(d, n);
    }
    advance(300 * M0_NS_PER_MS);
  }
  return 0;
}
