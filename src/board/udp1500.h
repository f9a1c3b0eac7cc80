/* udp1500.h: the board's UDP 1500 socket (the vendor's setup protocols; the decisions are
 * the core's, include/m0/udp1500.h). One per device, independent of the device's links:
 * it stays open across restarts, like the module's own network stack answering its
 * setup tools.
 */
#ifndef M0_BOARD_UDP1500_H
#define M0_BOARD_UDP1500_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "m0/dev.h"

struct m0__events;

/* The largest datagram read whole: every request is at most 106 bytes; a longer one is
 * handed on cut here (the core refuses it by its length either way). */
#define M0__UDP1500_RBUF 2048

struct m0__udp1500_sock {
  uv_loop_t *loop;
  struct m0_dev *dev;
  struct m0__events *events;
  uv_udp_t udp;
  bool open;          /* the handle is initialised (close it) */
  bool broadcast;     /* --udp1500-reply broadcast, in --net host */
  uint16_t port;      /* the device's port (1500, or --udp1500-port) */
  uint16_t host_port; /* the port bound (8000+port when the port needed privileges) */
  struct m0_net_addr here; /* the module's address as the core reports it, and port */
  uint8_t rbuf[M0__UDP1500_RBUF];
};

/* Bind the socket: --net loopback at `bind` (its address is the module's), --net host at
 * 0.0.0.0 (so broadcasts arrive) with SO_BROADCAST; `bind` is still the module's address
 * unless it is a wildcard. port 0: no socket. A port that cannot be bound is reported
 * (udp1500.error) and the device runs without it; one that needs privileges becomes
 * 8000+port (udp1500.port_mapped). fleet: a module of a fleet (in --net host its
 * socket shares 0.0.0.0:port with the others). u must be zero-filled: the read buffer is
 * left untouched. Always returns 0 after initialising u. */
int m0__udp1500_open(struct m0__udp1500_sock *u, uv_loop_t *loop, struct m0_dev *dev,
                     struct m0__events *events, const char *bind, bool net_host,
                     uint16_t port, bool broadcast, bool fleet);
/* The HAL's udp1500_send: one datagram to `to` (to 255.255.255.255 and its port instead
 * with broadcast replies, unless `to` is a loopback address). Losses are logged (-v). */
void m0__udp1500_send(struct m0__udp1500_sock *u, const uint8_t *data, size_t len,
                      const struct m0_net_addr *to);
/* The host port bound, 0 when there is no socket. */
uint16_t m0__udp1500_port(const struct m0__udp1500_sock *u);
/* Close the handle (then uv_run). */
void m0__udp1500_close(struct m0__udp1500_sock *u);

#endif
