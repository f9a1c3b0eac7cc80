/* core.h: names shared between the files of the device engine (not an API).
 *
 * The engine is split by concern: dev.c (life cycle, the one timer, events, drops),
 * save.c (the set path, the flash write in flight), host_line.c (the running UART
 * settings against the host's line), pace.c (the byte budget), uart_host.c (the queue
 * toward the host), escape.c (+++ / a), framer.c (serial frames), at.c (command mode),
 * net.c (links, the network's inputs and the routing of frames), link_to_host.c (the
 * network's bytes toward the host), tcpc.c / tcps.c / udp.c (the work modes), flow.c
 * (back-pressure both ways). Each concern keeps its own deadline in struct m0_dev; dev.c
 * arms the HAL timer for the earliest of them, because the board gives the device a
 * single timer.
 *
 * Names here are m0__dev_*, m0__host_* (the UART seen from the device: toward and from
 * the host), m0__pace_*, m0__escape_*, m0__framer_*, m0__at_*, m0__link_*, m0__tcpc_*,
 * m0__tcps_*, m0__udp_*, m0__flow_*; the board, linked into the same program, uses
 * m0__uart_*, m0__net_* and m0__board_* for its own.
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
/* Run every deadline that is due at `now` (the first step of every input). */
void m0__dev_catch_up(struct m0_dev *dev, uint64_t now);
/* Restart at once (CLIENTRST, RSTIM): cause goes into the `restart` event. */
void m0__dev_restart_now(struct m0_dev *dev, uint64_t now, const char *cause);
/* ceil(n character times) of the running UART, in ns. */
uint64_t m0__dev_char_ns(const struct m0_dev *dev, unsigned n);
/* Restart once the queue toward the host is empty (AT+Z, AT+RELD). */
void m0__dev_restart_after_drain(struct m0_dev *dev, uint64_t now, const char *cause);
/* The start of a boot (the first, a restart's, power on's). */
void m0__dev_boot(struct m0_dev *dev, uint64_t now);
/* Everything a restart forgets (what waits for the host or the network, the handshake,
 * the command line, the heartbeat, every link), without the event and the boot: a
 * restart and a power cut share it. */
void m0__dev_shutdown(struct m0_dev *dev, uint64_t now);
void m0__dev_enter_command(struct m0_dev *dev, uint64_t now);
void m0__dev_enter_transparent(struct m0_dev *dev, uint64_t now, const char *cause);
/* A line for the log (hal->log, shown with -v). */
void m0__dev_log(struct m0_dev *dev, const char *message);
/* The host bytes kept while a save was in flight go on, as if they arrived now. */
void m0__dev_release_held(struct m0_dev *dev, uint64_t now);

/* ---- save.c: the one set path and the flash write in flight ---- */

/* The AT set path: validate on a copy of saved, save flash, commit. Returns 0,
 * M0_E_INVAL, M0_E_NOTCONFIG, M0_E_BUSY or M0_E_FLASH (nothing saved), or M0_PENDING: the
 * write is in flight and m0__at_set_saved() gets its outcome. */
int m0__dev_set(struct m0_dev *dev, const struct m0_param *p, const char *value, size_t len);
/* Factory defaults into saved and flash, for `what` (AT+RELD or the web page's Factory
 * Reset). Returns 0, M0_E_BUSY or M0_E_FLASH (saved unchanged) or M0_PENDING (the
 * outcome goes to m0__at_reld_saved() or the factory reset's restart later). */
int m0__dev_save_defaults(struct m0_dev *dev, enum m0__save_for what);
/* The edit being built (m0_dev_edit_begin/set) saved for an asker inside the core whose
 * outcome handler is `what`'s (UDP 1500). Returns 0 (nothing taken, or saved), M0_E_BUSY
 * or M0_E_FLASH (nothing changed) or M0_PENDING. */
int m0__dev_edit_save_as(struct m0_dev *dev, enum m0__save_for what);
/* Command-mode host bytes wait: a save is in flight in command mode. */
bool m0__dev_flash_holds(const struct m0_dev *dev);

/* ---- host_line.c: the running UART settings and the host's line ---- */

/* New running UART settings from a similar-RFC2217 packet on link `link` (spec §6.8): not
 * saved; pacing and the host line check follow at once; a `uart.config` event tells. */
void m0__dev_uart_running(struct m0_dev *dev, uint64_t now, uint32_t baud, uint8_t data_bits,
                          uint8_t stop_bits, uint8_t parity, unsigned link);
/* The table's (doc) spelling of value of the enumerated `field` of parameter id. */
const char *m0__dev_choice(enum m0_param_id id, const char *field, unsigned value);
/* `uart.config`: the running UART settings were set; `extra` ends the field list. */
void m0__dev_uart_config_event(struct m0_dev *dev, const char *extra);
/* Compare the host's line with the running settings; say a change of agreement. */
void m0__dev_check_mismatch(struct m0_dev *dev);

/* ---- fault.c, fault_net.c, fault_line.c: faults on demand (include/m0/fault.h) ---- */

void m0__fault_init(struct m0_dev *dev);
/* The earliest deadline of the faults (a power cycle's end, a hang's, a re-plug, a dial
 * into a pulled cable timing out, held bytes due), and running what is due. */
uint64_t m0__fault_next(const struct m0_dev *dev);
void m0__fault_expire(struct m0_dev *dev, uint64_t now);
/* The firmware hangs: no deadline of the device's own runs, nothing goes to the host. */
static inline bool m0__fault_frozen(const struct m0_dev *dev) { return dev->fault.hung; }
/* Nothing moves on the network: the cable is out or the firmware hangs (TCP links are
 * paused, sends are held, datagrams lost). */
static inline bool m0__fault_net_cut(const struct m0_dev *dev) {
  return dev->fault.unplugged || dev->fault.hung;
}
/* A send the faults take (true: held for later, or lost and counted) or leave (false:
 * send it now). */
bool m0__fault_tx(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                  size_t len, const struct m0_net_addr *to);
/* A datagram of len bytes arrived: true when a fault loses it (counted). */
bool m0__fault_rx_lost(struct m0_dev *dev, uint64_t now, size_t len);
/* A dial the cable cannot carry: kept by the faults (true), or for the board (false). */
bool m0__fault_dial_void(struct m0_dev *dev, uint64_t now, unsigned id,
                         const struct m0_link_open *request);
/* Link id was freed: a dial into the void for it is over. */
void m0__fault_link_freed(struct m0_dev *dev, unsigned id);
/* A restart or a power cut: what was held for the network is lost (counted). */
void m0__fault_net_restart(struct m0_dev *dev, uint64_t now);
/* Noise on the serial line in direction dir: whether any, and applying it to len bytes:
 * out gets what survives (flipped bits included), from[k] (may be NULL) the index in in
 * of out[k]. Returns how many survive. */
bool m0__fault_line_active(const struct m0_dev *dev, enum m0_uart_dir dir);
size_t m0__fault_line(struct m0_dev *dev, uint64_t now, enum m0_uart_dir dir,
                      const uint8_t *in, size_t len, uint8_t *out, uint16_t *from);
/* What the line did to bytes that really went (a short write retries the rest, and is
 * counted then): for the fault's status. */
void m0__fault_line_count(struct m0_dev *dev, enum m0_uart_dir dir, size_t corrupted,
                          size_t lost);
/* from_net impairment on the inbox (flow.c): n bytes came in; how many may move on at
 * now; n moved on; everything was dropped. */
void m0__fault_inbox_in(struct m0_dev *dev, uint64_t now, size_t n);
size_t m0__fault_inbox_ready(const struct m0_dev *dev, uint64_t now);
void m0__fault_inbox_out(struct m0_dev *dev, size_t n);
void m0__fault_inbox_dropped(struct m0_dev *dev);
/* A save is about to start: true when a flash fault refuses it (flash.error reported). */
bool m0__fault_flash_refuses(struct m0_dev *dev);
/* fault_net.c's, for fault.c's deadlines and requests: send the held sends that are due;
 * when the head one may go; when bytes held back in the inbox may move on (M0_TIME_NEVER:
 * none wait only for that); whether an impairment is set in direction n. */
void m0__fault_release(struct m0_dev *dev, uint64_t now);
uint64_t m0__fault_release_due(const struct m0_dev *dev);
uint64_t m0__fault_inbox_due(const struct m0_dev *dev);
bool m0__fault_impaired(const struct m0__fault_net *n);
/* fault_line.c's generator: true with probability ppb / 1e9; uniform in [0, n]. */
bool m0__fault_chance(struct m0__faults *f, uint32_t ppb);
uint64_t m0__fault_uniform(struct m0__faults *f, uint64_t n);

/* ---- invariants.c ---- */

/* The name of the first rule of invariants.c that dev breaks at `now` (the end of an
 * input), or NULL when every rule holds. Pure; compiled into every build. */
const char *m0__dev_invariant(const struct m0_dev *dev, uint64_t now);
/* With M0_CHECK_INVARIANTS (ASan and fuzz builds): abort, naming the broken rule, unless
 * every rule holds. Called at the end of every input. Otherwise it costs nothing. */
#ifdef M0_CHECK_INVARIANTS
void m0__dev_check(const struct m0_dev *dev, uint64_t now);
#else
static inline void m0__dev_check(const struct m0_dev *dev, uint64_t now) {
  (void)dev;
  (void)now;
}
#endif

/* ---- pace.c: the budget ---- */

void m0__pace_init(struct m0__pace *p, uint64_t now, uint32_t baud, unsigned bits);
/* Bytes that may move at `now`. */
uint64_t m0__pace_avail(const struct m0__pace *p, uint64_t now);
void m0__pace_take(struct m0__pace *p, uint64_t n);
/* The line was idle: keep at most `burst` bytes of credit. */
void m0__pace_cap(struct m0__pace *p, uint64_t now);
/* The first instant at which n bytes are available. */
uint64_t m0__pace_due(const struct m0__pace *p, uint64_t n);

/* ---- uart_host.c: the UART toward and from the host ---- */

/* Queue bytes for the host and start sending (drops them when no host or no room). */
void m0__host_send(struct m0_dev *dev, uint64_t now, const void *data, size_t len);
/* Write what the budget allows; sets dev->tx_due for the rest. */
void m0__host_kick(struct m0_dev *dev, uint64_t now);
/* Drop everything queued for the host, counted as `kind`. */
void m0__host_flush(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind);
/* New running UART settings (boot, a similar-RFC2217 packet): restart both budgets. */
void m0__host_reconfigure(struct m0_dev *dev, uint64_t now);
/* Stop (true) or allow (false) reading from the host for the network's sake (flow.c),
 * independently of the budget. */
void m0__host_rx_hold(struct m0_dev *dev, bool hold);
/* The same for a flash write in flight in command mode (dev.c). */
void m0__host_rx_flash(struct m0_dev *dev, bool hold);
/* Account host bytes against the receive budget; stops reading when it runs out. */
void m0__host_rx_take(struct m0_dev *dev, uint64_t now, size_t n);
/* The receive budget's deadline came: resume reading. */
void m0__host_rx_resume(struct m0_dev *dev, uint64_t now);
size_t m0__host_rx_budget(struct m0_dev *dev, uint64_t now);
/* Until when the host's line must be taken as busy although no byte came: real timing,
 * reading stopped (or just resumed) because the budget ran out while the host still had
 * bytes. 0 when the line may be idle. */
uint64_t m0__host_rx_busy_until(const struct m0_dev *dev);

/* ---- escape.c ---- */

void m0__escape_reset(struct m0_dev *dev);
/* One host byte in transparent mode. */
void m0__escape_input(struct m0_dev *dev, uint64_t now, uint8_t c);
/* The current window expired: release what was held. */
void m0__escape_expire(struct m0_dev *dev, uint64_t now);

/* ---- framer.c ---- */

void m0__framer_push(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
/* The idle deadline came: end the frame, unless the line is only paused by pacing. */
void m0__framer_expire(struct m0_dev *dev, uint64_t now);
/* End the frame being collected, if any. */
void m0__framer_flush(struct m0_dev *dev, uint64_t now);
/* Forget the frame being collected, counted as `kind`. */
void m0__framer_discard(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind);

/* ---- at.c ---- */

void m0__at_reset(struct m0_dev *dev);
/* One host byte in command mode. */
void m0__at_input(struct m0_dev *dev, uint64_t now, uint8_t c);
/* The commands that are not stored configuration (m0_param_exec_fn, pointed at by their
 * entry in params.c). */
void m0__at_z(struct m0_dev *dev, uint64_t now);
void m0__at_ver(struct m0_dev *dev, uint64_t now);
void m0__at_entm(struct m0_dev *dev, uint64_t now);
void m0__at_reld(struct m0_dev *dev, uint64_t now);
void m0__at_mac(struct m0_dev *dev, uint64_t now);
void m0__at_socklk(struct m0_dev *dev, uint64_t now);
void m0__at_pdtime(struct m0_dev *dev, uint64_t now);
void m0__at_help(struct m0_dev *dev, uint64_t now);
/* The outcome (0 or an enum m0_err) of a set's or AT+RELD's flash write that was in
 * flight: the reply the command was waiting for. */
void m0__at_set_saved(struct m0_dev *dev, uint64_t now, int rc);
void m0__at_reld_saved(struct m0_dev *dev, uint64_t now, int rc);

/* ---- udp1500_dev.c: the setup protocols on UDP 1500 ---- */

/* The outcome (0, M0_E_BUSY or M0_E_FLASH) of a UDP 1500 write's flash save: its reply. */
void m0__udp1500_saved(struct m0_dev *dev, uint64_t now, int rc);

/* ---- net.c (and link_to_host.c): the network seam: links, inputs, routing ---- */

/* Every finished serial frame goes here and nowhere else: routed by work mode. */
void m0__dev_frame_out(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
/* What AT+SOCKLK answers and the status page shows. */
bool m0__dev_socket_connected(const struct m0_dev *dev);
/* A restart: close every link, drop queued network data. */
void m0__dev_net_restart(struct m0_dev *dev, uint64_t now);
/* Before the first start: no link, no deadline. */
void m0__link_init(struct m0_dev *dev);
/* The device finished booting: open the running work mode's links. */
void m0__link_boot(struct m0_dev *dev, uint64_t now);
/* The earliest network deadline (retry, short-connection idle, RSTIM, the HTTP response
 * timeout, each link's similar-RFC2217 hold and dial timeout), and running it. */
uint64_t m0__link_next(const struct m0_dev *dev);
void m0__link_expire(struct m0_dev *dev, uint64_t now);
void m0__link_status(const struct m0_dev *dev, struct m0_status *out);
/* The end of every input: flow.c's settle, and a `net.socket` event when the socket state
 * (AT+SOCKLK, the link pin) changed. */
void m0__link_settle(struct m0_dev *dev, uint64_t now);
/* Open link id for `role`. Returns 0, or negative when the board cannot even start it
 * (the id stays free; the caller treats it as refused). */
int m0__link_open(struct m0_dev *dev, uint64_t now, unsigned id, enum m0__link_role role,
                  const struct m0_link_open *request);
/* m0__link_open for a TCP connection the device dials (TCPC, HTTP): if it is not up by
 * now + 10 s, m0__link_expire closes it and reports it down with M0_DOWN_TIMEOUT. */
int m0__link_dial(struct m0_dev *dev, uint64_t now, unsigned id, enum m0__link_role role,
                  const struct m0_link_open *request);
/* The link is a dial not up yet: its dial_at counts. */
bool m0__link_dialling(const struct m0__link *l);
/* Send on an open link: counts bytes, watches the board's queue (flow.c); a refused send
 * is dropped and counted. Returns what link_send returned. Faults (fault_net.c) may hold the
 * bytes first (then the link's last known queue is returned). */
long m0__link_send(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                   size_t len, const struct m0_net_addr *to);
/* The same without the faults' say: what fault_net.c calls when held bytes may go. */
long m0__link_send_now(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                       size_t len, const struct m0_net_addr *to);
/* Link id went down (the board's report, or a fault's reset or timed-out dial): its id
 * is free and its work mode reacts (retry, notices). reason: enum m0_link_down. */
void m0__link_lost(struct m0_dev *dev, uint64_t now, unsigned id, int reason);
/* The link pin (spec 6.9, and down while the cable is pulled). */
bool m0__link_pin(const struct m0_dev *dev);
/* A `net.socket` event with the socket state and the pin as they are now. */
void m0__link_socket_event(struct m0_dev *dev);
/* Close a link we own; its id is free at once. Bytes its scanner held go to the host. */
void m0__link_close(struct m0_dev *dev, uint64_t now, unsigned id);
/* link_to_host.c: every network byte the device accepted for the host passes here
 * (after the work mode decided to take it): similar-RFC2217 (one scanner per link;
 * RFCEN, not HTPC), the INDEXEN prefix, the datagram rule, the inbox. */
void m0__link_to_host(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                      size_t len);
/* link_to_host.c: what link id's scanner holds goes to the host as data (its hold time
 * is over, or the link closes). */
void m0__link_release(struct m0_dev *dev, uint64_t now, unsigned id);
/* The device forgets link id without closing it: the board still holds the socket
 * (a power cut's silent connections, fault.c). Nothing held for the host is kept. */
void m0__link_forget(struct m0_dev *dev, unsigned id);
/* Something came from the network (RSTIM starts counting again). */
void m0__link_heard(struct m0_dev *dev, uint64_t now);
/* Same address and port (host names compare case-insensitively). */
bool m0__link_same_addr(const struct m0_net_addr *a, const struct m0_net_addr *b);
/* SOCK's address and port. */
void m0__link_sock_addr(const struct m0_dev *dev, struct m0_net_addr *out);
/* A `reg.sent` event for the registration on link id: "first" each time, "every" once
 * per TCP connection (TCPC) or per boot (UDPC). */
void m0__link_reg_sent(struct m0_dev *dev, unsigned id, bool every);
/* The NET heartbeat follows the server link: up (silence counts from now), down. */
void m0__link_heart_up(struct m0_dev *dev, uint64_t now);
void m0__link_heart_down(struct m0_dev *dev);
/* A NET heartbeat is due: send HEARTDT to the server, `heart.sent` when it went. */
void m0__link_beat(struct m0_dev *dev, uint64_t now);

/* ---- tcpc.c: TCP client (spec §6.2) ---- */

void m0__tcpc_start(struct m0_dev *dev, uint64_t now);
void m0__tcpc_frame(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
void m0__tcpc_up(struct m0_dev *dev, uint64_t now);
void m0__tcpc_rx(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
void m0__tcpc_down(struct m0_dev *dev, uint64_t now, bool was_up);
void m0__tcpc_retry(struct m0_dev *dev, uint64_t now);
void m0__tcpc_idle(struct m0_dev *dev, uint64_t now);
/* Send a heartbeat on the connection; returns what m0__link_send returned. */
long m0__tcpc_beat(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);

/* ---- tcps.c: TCP server (spec §6.3) ---- */

void m0__tcps_start(struct m0_dev *dev, uint64_t now);
void m0__tcps_frame(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
int m0__tcps_accept(struct m0_dev *dev, uint64_t now, const struct m0_net_addr *peer);
void m0__tcps_rx(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                 size_t len);
void m0__tcps_down(struct m0_dev *dev, uint64_t now, unsigned id, enum m0__link_role role);
void m0__tcps_retry(struct m0_dev *dev, uint64_t now);

/* ---- udp.c: UDP client and server (spec §6.4) ---- */

void m0__udp_start(struct m0_dev *dev, uint64_t now);
void m0__udp_frame(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
void m0__udp_rx(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len,
                const struct m0_net_addr *from);
void m0__udp_up(struct m0_dev *dev, uint64_t now);
void m0__udp_down(struct m0_dev *dev, uint64_t now);
/* UDPC: a heartbeat datagram to the peer (the registration first if still due). */
long m0__udp_beat(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
void m0__udp_retry(struct m0_dev *dev, uint64_t now);

/* ---- htpc_mode.c: HTTP client (spec §6.5) on the links, with htpc.c ---- */

void m0__htpc_mode_frame(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
void m0__htpc_mode_up(struct m0_dev *dev, uint64_t now);
void m0__htpc_mode_rx(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);
/* reason: enum m0_link_down. */
void m0__htpc_mode_down(struct m0_dev *dev, uint64_t now, bool was_up, int reason);
/* The peer stayed silent for the response timeout (10 s). */
void m0__htpc_mode_timeout(struct m0_dev *dev, uint64_t now);
/* Frame bytes waiting for their request (what a restart loses). */
size_t m0__htpc_mode_queued(const struct m0_dev *dev);

/* ---- flow.c: back-pressure both ways ---- */

/* Its thresholds (flow.c's header says why these numbers), shared with invariants.c. */
#define M0__FLOW_HOST_HIGH (48 * 1024) /* inbox + UART queue: pause every TCP link */
#define M0__FLOW_HOST_LOW (16 * 1024)  /* ... and resume them at or below this */
#define M0__FLOW_UART_FILL (8 * 1024)  /* the inbox feeds the UART queue up to this */
#define M0__FLOW_NET_HIGH (256 * 1024) /* a TCP peer this far behind stops the UART */
#define M0__FLOW_QUANTUM ((uint64_t)M0_LINK_RX_MAX) /* a link's turn: one full board read */

/* Queue network bytes for the host: prefix then data. A datagram (whole) is taken only
 * if it fits the UART queue's 64 KiB with what already waits; else dropped and counted. */
void m0__flow_to_host(struct m0_dev *dev, uint64_t now, const uint8_t *prefix, size_t plen,
                      const uint8_t *data, size_t len, bool whole);
/* A datagram of n bytes for the host, to be handed over in pieces (whole = false): true
 * when all of it fits now; false when it was dropped and counted (spec §6.4). */
bool m0__flow_admit(struct m0_dev *dev, uint64_t now, size_t n);
/* Bytes waiting for the host: network data held and the UART queue. */
size_t m0__flow_backlog(const struct m0_dev *dev);
/* Move held network data on toward the host, pause or resume the TCP links. */
void m0__flow_settle(struct m0_dev *dev, uint64_t now);
/* A link just received len bytes: charged to its turn; a link the board still reads
 * while we pause is paused again. */
void m0__flow_received(struct m0_dev *dev, uint64_t now, unsigned id, size_t len);
/* When the round stops waiting for links that send nothing (M0_TIME_NEVER: not waiting
 * for that), and doing it. */
uint64_t m0__flow_next(const struct m0_dev *dev);
void m0__flow_expire(struct m0_dev *dev, uint64_t now);
/* The board's write queue of link id is now `queued` bytes (send, drain, close). */
void m0__flow_queued(struct m0_dev *dev, unsigned id, uint64_t queued);
/* A restart: drop what waits for the host, resume reading. */
void m0__flow_reset(struct m0_dev *dev, uint64_t now);

#endif
