/* heart.h: the heartbeat schedule (spec §6.7), a pure helper.
 *
 * One deadline on the caller's nanosecond clock. NET beats after HEARTTM s without
 * anything sent to the network (every send pushes the deadline back); COM beats every
 * HEARTTM s on a fixed grid from start(), whatever else happens. The caller starts and
 * stops the schedule (link up/down for NET, entering/leaving transparent mode for COM),
 * sends h->data when due(), and folds next() into the device's single timer.
 */
#ifndef M0_CORE_HEART_H
#define M0_CORE_HEART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/dev.h"
#include "m0/params.h"


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
/* The caller sent the beat that was due at `due` (m0__heart_next() when due() said so),
 * at now. NET: the idle time counts again from the deadline, not from now: the module
 * sends at its deadline, and a board that noticed late (a loaded host, a thousand
 * devices due at once) must not make the schedule drift; a beat over a whole period
 * late counts from now instead (never a burst). COM: the next point of the grid after
 * now (a late timer skips missed beats, it never bursts). */
void m0__heart_beaten(struct m0__heart *h, uint64_t due, uint64_t now);
/* When the next beat is due, or M0_TIME_NEVER. */
static inline uint64_t m0__heart_next(const struct m0__heart *h) {
  return h->next;
}

#endif
