/* keepalive.c: registration bytes (spec §6.6) and the heartbeat schedule (spec §6.7).
 *
 * Key choices: registration and NET heartbeats apply to TCPC and UDPC only, as the spec
 * says; COM heartbeats apply in every work mode. The COM grid is anchored at start() so a
 * late timer never drifts the cadence (beats stay at start + k * HEARTTM); NET measures
 * idleness from the last byte sent, so it never beats while data is flowing. Deadlines
 * saturate just below M0_TIME_NEVER instead of wrapping.
 */
#include "keepalive.h"

#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int m0__reg_bytes(const struct m0_config *cfg, const char *mac_text,
                  uint8_t out[M0_HEX_BYTES_MAX]) {
  switch (cfg->regen) {
  case M0_REGEN_MAC:
    if (mac_text == NULL)
      return M0_ERR_PARAM;
    for (int i = 0; i < 6; i++) {
      int hi = hexval(mac_text[2 * i]);
      int lo = hi < 0 ? -1 : hexval(mac_text[2 * i + 1]);
      if (lo < 0)
        return M0_ERR_PARAM;
      out[i] = (uint8_t)(hi << 4 | lo);
    }
    return mac_text[12] == '\0' ? 6 : M0_ERR_PARAM;
  case M0_REGEN_USR:
    if (cfg->regusr_len > M0_HEX_BYTES_MAX)
      return M0_ERR_PARAM;
    memcpy(out, cfg->regusr, cfg->regusr_len);
    return cfg->regusr_len;
  default:
    return 0;
  }
}

static bool client_mode(const struct m0_config *cfg) {
  return cfg->proto == M0_PROTO_TCPC || cfg->proto == M0_PROTO_UDPC;
}

int m0__reg_init(struct m0__reg *r, const struct m0_config *cfg, const char *mac_text) {
  int n;
  memset(r, 0, sizeof *r);
  r->every = cfg->regtcp == M0_REGTCP_EVERY;
  if (!client_mode(cfg))
    return 0;
  n = m0__reg_bytes(cfg, mac_text, r->data);
  if (n < 0)
    return n;
  r->len = (uint8_t)n;
  return 0;
}

long m0__reg_wrap(const struct m0__reg *r, const uint8_t *frame, size_t len, uint8_t *out,
                  size_t cap) {
  size_t pre = r->every ? r->len : 0;
  if (len > cap || pre > cap - len)
    return -1;
  memcpy(out, r->data, pre);
  memcpy(out + pre, frame, len);
  return (long)(pre + len);
}

/* a + b, never reaching M0_TIME_NEVER (which means "disarmed"). */
static uint64_t later(uint64_t a, uint64_t b) {
  return a >= M0_TIME_NEVER - 1 - b ? M0_TIME_NEVER - 1 : a + b;
}

void m0__heart_init(struct m0__heart *h, const struct m0_config *cfg) {
  memset(h, 0, sizeof *h);
  h->next = M0_TIME_NEVER;
  h->period_ns = (uint64_t)cfg->hearttm * M0_NS_PER_S;
  h->len = cfg->heartdt_len <= M0_HEX_BYTES_MAX ? cfg->heartdt_len : M0_HEX_BYTES_MAX;
  memcpy(h->data, cfg->heartdt, h->len);
  if (!cfg->hearten || h->period_ns == 0 || h->len == 0)
    h->target = M0__HEART_NONE;
  else if (cfg->hearttp == M0_HEARTTP_COM)
    h->target = M0__HEART_UART;
  else
    h->target = client_mode(cfg) ? M0__HEART_NET : M0__HEART_NONE;
}

void m0__heart_start(struct m0__heart *h, uint64_t now) {
  if (h->target == M0__HEART_NONE)
    return;
  h->running = true;
  h->next = later(now, h->period_ns);
}

void m0__heart_stop(struct m0__heart *h) {
  h->running = false;
  h->next = M0_TIME_NEVER;
}

void m0__heart_on_sent(struct m0__heart *h, uint64_t now) {
  if (h->running && h->target == M0__HEART_NET)
    h->next = later(now, h->period_ns);
}

void m0__heart_beaten(struct m0__heart *h, uint64_t now) {
  if (!h->running)
    return;
  if (h->target == M0__HEART_NET) {
    h->next = later(now, h->period_ns);
  } else if (now >= h->next) {
    uint64_t missed = (now - h->next) / h->period_ns + 1;
    if (missed > (M0_TIME_NEVER - 1 - h->next) / h->period_ns)
      h->next = M0_TIME_NEVER - 1;
    else
      h->next += missed * h->period_ns;
  }
}
