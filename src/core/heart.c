/* heart.c: the heartbeat schedule (spec §6.7).
 *
 * Key choices: NET heartbeats apply to TCPC and UDPC only, as the spec says; COM
 * heartbeats apply in every work mode. The COM grid is anchored at start() so a late
 * timer never drifts the cadence (beats stay at start + k * HEARTTM); NET measures
 * idleness from the last byte sent, so it never beats while data is flowing. Deadlines
 * saturate just below M0_TIME_NEVER instead of wrapping.
 */
#include "heart.h"

#include <string.h>

static bool client_mode(const struct m0_config *cfg) {
  return cfg->proto == M0_PROTO_TCPC || cfg->proto == M0_PROTO_UDPC;
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

void m0__heart_beaten(struct m0__heart *h, uint64_t due, uint64_t now) {
  if (!h->running)
    return;
  if (h->target == M0__HEART_NET) {
    uint64_t anchored = later(due, h->period_ns);
    h->next = anchored > now ? anchored : later(now, h->period_ns);
  } else if (now >= h->next) {
    uint64_t missed = (now - h->next) / h->period_ns + 1;
    if (missed > (M0_TIME_NEVER - 1 - h->next) / h->period_ns)
      h->next = M0_TIME_NEVER - 1;
    else
      h->next += missed * h->period_ns;
  }
}
