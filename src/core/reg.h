/* reg.h: the registration packet (spec §6.6), a pure helper.
 *
 * The bytes a connection announces itself with (REGEN), and whether they go once per
 * connection or in front of every frame (REGTCP). Registration applies to TCPC and UDPC
 * only, as the spec says.
 */
#ifndef M0_CORE_REG_H
#define M0_CORE_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/dev.h"
#include "m0/params.h"


/* The REGEN bytes alone, whatever the work mode: off gives 0, mac the 6 raw bytes of
 * mac_text (12 hex digits, either case, as in struct m0_factory), usr the REGUSR bytes.
 * out has room for M0_HEX_BYTES_MAX. Returns the length, or M0_E_INVAL when REGEN=mac
 * and mac_text is not 12 hex digits. */
int m0__reg_bytes(const struct m0_config *cfg, const char *mac_text,
                  uint8_t out[M0_HEX_BYTES_MAX]);

/* struct m0__reg (in m0/dev_internal.h: the device embeds it): data[0..len), len 0 when
 * there is nothing to send; every: REGTCP=every. */

/* Registration as it applies to cfg's work mode. Returns 0, or M0_E_INVAL for a bad
 * mac_text (r->len is then 0, so nothing is sent). */
int m0__reg_init(struct m0__reg *r, const struct m0_config *cfg, const char *mac_text);

/* A frame as it goes to the network: with REGTCP=every and registration on, the
 * registration bytes then the frame in one buffer (one UDP datagram); otherwise the frame
 * alone. out may not overlap frame; M0__REG_WRAP_MAX always suffices for a serial frame.
 * Returns the length, or -1 when it does not fit in cap. */
#define M0__REG_WRAP_MAX (M0_HEX_BYTES_MAX + M0_FRAME_MAX)
long m0__reg_wrap(const struct m0__reg *r, const uint8_t *frame, size_t len, uint8_t *out,
                  size_t cap);

#endif
