/* core.h: names shared between the files of the device engine (not an API).
 *
 * The engine is split by concern: dev.c (life cycle, the one timer, events, drops),
 * pace.c (the byte budget and the queue toward the host), escape.c (+++ / a),
 * framer.c (serial frames), at.c (command mode), net.c (the network seam). Each
 * concern keeps its own deadline in struct m0_dev; dev.c arms the HAL timer for the
 * earliest of them, because the board gives the device a single timer.
 *
 * Names here are m0__dev_*, m0__host_* (the UART seen from the device: toward and from
 * the host), m0__pace_*, m0__escape_*, m0__framer_*, m0__at_*; the board, linked into
 * the same program, uses m0__uart_*, m0__net_* and m0__board_* for its own.
 */
#ifndef M0_CORE_H
#define M0_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/dev.h"

/* ---- dev.c ---- */

/* Emit an event; fmt builds the fields (JSON object body without braces). */
void m0__dev_event(struct m0_dev *dev, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Count dropped bytes and report them, at most one `drop` event per kind per second. */
void m0__dev_drop(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind, size_t n);
/* Run every deadline that is due at `now`, then arm the timer for the earliest left. */
void m0__dev_settle(struct m0_dev *dev, uint64_t now);
/* ceil(n character times) of the running UART, in ns. */
uint64_t m0__dev_char_ns(const struct m0_dev *dev, unsigned n);
/* The one set path (AT, web page): validate on a copy of saved, save flash, commit.
 * Returns 0, M0_ERR_PARAM, M0_ERR_OPERATOR, or M0_ERR_STATE when flash refused it. */
int m0__dev_set(struct m0_dev *dev, const struct m0_param *p, const char *value, size_t len);
/* Factory defaults into saved and flash. Returns 0 or M0_ERR_STATE (saved unchanged). */
int m0__dev_save_defaults(struct m0_dev *dev);
/* Restart once the queue toward the host is empty (AT+Z, AT+RELD). */
void m0__dev_restart_after_drain(struct m0_dev *dev, uint64_t now, const char *cause);
void m0__dev_enter_command(struct m0_dev *dev, uint64_t now);
void m0__dev_enter_transparent(struct m0_dev *dev, uint64_t now, const char *cause);

/* ---- pace.c: the budget ---- */

void m0__pace_init(struct m0__pace *p, uint64_t now, uint32_t baud, unsigned bits);
/* Bytes that may move at `now`. */
uint64_t m0__pace_avail(const struct m0__pace *p, uint64_t now);
void m0__pace_take(struct m0__pace *p, uint64_t n);
/* The line was idle: keep at most `burst` bytes of credit. */
void m0__pace_cap(struct m0__pace *p, uint64_t now);
/* The first instant at which n bytes are available. */
uint64_t m0__pace_due(const struct m0__pace *p, uint64_t n);

/* ---- pace.c: the UART toward and from the host ---- */

/* Queue bytes for the host and start sending (drops them when no host or no room). */
void m0__host_send(struct m0_dev *dev, uint64_t now, const void *data, size_t len);
/* Write what the budget allows; sets dev->tx_due for the rest. */
void m0__host_kick(struct m0_dev *dev, uint64_t now);
/* Drop everything queued for the host, counted as `kind`. */
void m0__host_flush(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind);
/* New running UART settings (boot, later RFC2217): restart both budgets. */
void m0__host_reconfigure(struct m0_dev *dev, uint64_t now);
/* Account host bytes against the receive budget; stops reading when it runs out. */
void m0__host_rx_take(struct m0_dev *dev, uint64_t now, size_t n);
/* The receive budget's deadline came: resume reading. */
void m0__host_rx_resume(struct m0_dev *dev, uint64_t now);
size_t m0__host_rx_budget(struct m0_dev *dev, uint64_t now);

/* ---- escape.c ---- */

void m0__escape_reset(struct m0_dev *dev);
/* One host byte in transparent mode. */
void m0__escape_input(struct m0_dev *dev, uint64_t now, uint8_t c);
/* The current window expired: release what was held. */
void m0__escape_expire(struct m0_dev *dev, uint64_t now);

/* ---- framer.c ---- */

void m0__framer_push(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
/* End the frame being collected, if any. */
void m0__framer_flush(struct m0_dev *dev, uint64_t now);
/* Forget the frame being collected, counted as `kind`. */
void m0__framer_discard(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind);

/* ---- at.c ---- */

void m0__at_reset(struct m0_dev *dev);
/* One host byte in command mode. */
void m0__at_input(struct m0_dev *dev, uint64_t now, uint8_t c);

/* ---- net.c: the network seam (replaced by the network issue) ---- */

/* Every finished serial frame goes here and nowhere else. */
void m0__dev_frame_out(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
/* What AT+SOCKLK answers and the status page shows. */
bool m0__dev_socket_connected(const struct m0_dev *dev);
/* A restart: close every link, drop queued network data. */
void m0__dev_net_restart(struct m0_dev *dev, uint64_t now);

#endif
