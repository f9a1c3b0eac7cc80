/* keepalive.h: registration packet (spec §6.6) and heartbeat (spec §6.7), pure helpers.
 *
 * m0__reg_*: the bytes a connection announces itself with (REGEN), and whether they go
 * once per connection or in front of every frame (REGTCP). m0__heart_*: one deadline on
 * the caller's nanosecond clock. NET beats after HEARTTM s without anything sent to the
 * network (every send pushes the deadline back); COM beats every HEARTTM s on a fixed
 * grid from start(), whatever else happens. The caller starts and stops the schedule
 * (link up/down for NET, entering/leaving transparent mode for COM), sends h->data when
 * due(), and folds next() into the device's single timer.
 */
#ifndef M0_CORE_KEEPALIVE_H
#define M0_CORE_KEEPALIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/dev.h"
#include "m0/params.h"

/* ---- registration ---- */

/* The REGEN bytes alone, whatever the work mode: off gives 0, mac the 6 raw bytes of
 * mac_text (12 hex digits, either case, as in struct m0_factory), usr the REGUSR bytes.
 * out has room for M0_HEX_BYTES_MAX. Returns the length, or M0_ERR_PARAM when REGEN=mac
 * and mac_text is not 12 hex digits. */
int m0__reg_bytes(const struct m0_config *cfg, const char *mac_text,
                  uint8_t out[M0_HEX_BYTES_MAX]);

/* struct m0__reg (in m0/dev_internal.h: the device embeds it): data[0..len), len 0 when
 * there is nothing to send; every: REGTCP=every. */

/* Registration as it applies to cfg's work mode. Returns 0, or M0_ERR_PARAM for a bad
 * mac_text (r->len is then 0, so nothing is sent). */
int m0__reg_init(struct m0__reg *r, const struct m0_config *cfg, const char *mac_text);

/* A frame as it goes to the network: with REGTCP=every and registration on, the
 * registration bytes then the frame in one buffer (one UDP datagram); otherwise the frame
 * alone. out may not overlap frame; M0__REG_WRAP_MAX always suffices for a serial frame.
 * Returns the length, or -1 when it does not fit in cap. */
#define M0__REG_WRAP_MAX (M0_HEX_BYTES_MAX + M0_FRAME_MAX)
long m0__reg_wrap(const struct m0__reg *r, const uint8_t *frame, size_t len, uint8_t *out,
                  size_t cap);

/* ---- heartbeat ---- */

/* enum m0__heart_target and struct m0__heart are in m0/dev_internal.h (the device
 * embeds the schedule). */

/* From the running configuration; stopped until m0__heart_start(). */
void m0__heart_init(struct m0__heart *h, const struct m0_config *cfg);
/* NET: the link to the server is up (the idle time counts from now). COM: transparent
 * mode began; the first beat comes one period later and the grid starts from now.
 * Calling it while running restarts the period. Nothing happens for M0__HEART_NONE. */
void m0__heart_start(struct m0__heart *h, uint64_t now);
/* NET: the link went down. COM: command mode or restart. */
void m0__heart_stop(struct m0__heart *h);
/* Bytes went to the network at now (frames, registration, the beat itself): NET waits a
 * whole period again. Ignored for COM and while stopped. */
void m0__heart_on_sent(struct m0__heart *h, uint64_t now);
/* True when a beat is due at now (a beat fires at exactly HEARTTM s, not 1 ns before). */
static inline bool m0__heart_due(const struct m0__heart *h, uint64_t now) {
  return h->running && now >= h->next;
}
/* The caller sent the beat at now. NET: the idle time counts again from now. COM: the
 * next point of the grid after now (a late timer skips missed beats, it never bursts). */
void m0__heart_beaten(struct m0__heart *h, uint64_t now);
/* When the next beat is due, or M0_TIME_NEVER. */
static inline uint64_t m0__heart_next(const struct m0__heart *h) {
  return h->next;
}

#endif
