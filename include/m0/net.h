/* net.h: the network side of the core's contract with the board.
 *
 * The core decides what to open, when, and what to do with bytes (policy); the board
 * opens real sockets and reports what happened (OS). A "link" is one socket, named by a
 * small id the core chooses (0..M0_LINKS_MAX-1): a TCP connection the device dials, a
 * listening socket, a connection accepted on it, or a UDP socket. Addresses are the
 * device's own view (SOCK's address as configured); the board maps them to where the
 * network really is (--net loopback dials 127.0.0.1, same port) and back.
 */
#ifndef M0_NET_H
#define M0_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/params.h"

/* Link ids: 0 is the listener, or the one link of TCPC, UDP and HTPC; 1-8 are the TCP
 * server's clients (a refused newcomer gets no id: the board closes it); 9 is spare. */
#define M0_LINKS_MAX 10

/* The most bytes one m0_dev_on_link_rx() carries (the board's read buffer; any UDP
 * datagram fits). The core sizes its queue toward the host so that one more read after
 * it paused the links always fits. */
#define M0_LINK_RX_MAX 65536

enum m0_link_kind {
  M0_LINK_TCP_CONNECT, /* the device dials peer (TCPC, HTPC) */
  M0_LINK_TCP_LISTEN,  /* the device listens on local_port (TCPS) */
  M0_LINK_TCP_ACCEPTED, /* a client the listener accepted (never opened by the core) */
  M0_LINK_UDP,         /* bound to local_port (0 = any); peer is the default destination */
};
/* The kind as every JSON answer spells it: "tcp_connect", "tcp_listen", "tcp_accepted",
 * "udp". */
const char *m0_link_kind_name(enum m0_link_kind kind);


struct m0_net_addr {
  char host[M0_SOCK_ADDR_MAX + 1]; /* dotted quad or host name */
  uint16_t port;
};

struct m0_link_open {
  enum m0_link_kind kind;
  struct m0_net_addr peer; /* TCP_CONNECT: whom to dial; UDP: default destination */
  uint16_t local_port;     /* 0 = any */
  bool keepalive;          /* TCP keepalive (spec §6.2: on for every connection) */
};

/* Why a link went down (m0_dev_on_link_down). */
enum m0_link_down {
  M0_DOWN_CLOSED = 0,   /* orderly close by the peer */
  M0_DOWN_REFUSED = -1, /* connect refused or unreachable */
  M0_DOWN_RESET = -2,   /* reset or other error on an open link */
  M0_DOWN_TIMEOUT = -3, /* connect timed out */
  M0_DOWN_BIND = -4,    /* could not bind or listen */
};

/* One link as the status page shows it. */
struct m0_link_status {
  unsigned id;
  enum m0_link_kind kind;
  bool connected;
  struct m0_net_addr peer;
  uint64_t tx_bytes, rx_bytes; /* device to network, network to device */
};

#endif
