/* reg.c: registration bytes (spec §6.6).
 *
 * Registration applies to TCPC and UDPC only, as the spec says; in the other modes the
 * packet is empty. REGEN=mac sends the 6 raw bytes of the factory MAC, REGEN=usr the
 * REGUSR bytes; REGTCP=every puts them in front of every frame (one datagram in UDPC).
 */
#include "reg.h"

#include <string.h>

int m0__reg_bytes(const struct m0_config *cfg, const char *mac_text,
                  uint8_t out[M0_HEX_BYTES_MAX]) {
  switch (cfg->regen) {
  case M0_REGEN_MAC:
    if (mac_text == NULL)
      return M0_E_INVAL;
    for (int i = 0; i < 6; i++) {
      int hi = m0_hex_digit(mac_text[2 * i]);
      int lo = hi < 0 ? -1 : m0_hex_digit(mac_text[2 * i + 1]);
      if (lo < 0)
        return M0_E_INVAL;
      out[i] = (uint8_t)(hi << 4 | lo);
    }
    return mac_text[12] == '\0' ? 6 : M0_E_INVAL;
  case M0_REGEN_USR:
    if (cfg->regusr_len > M0_HEX_BYTES_MAX)
      return M0_E_INVAL;
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
