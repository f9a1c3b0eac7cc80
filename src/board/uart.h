/* uart.h: the module's UART on the board: one line, several front ends, one host.
 *
 * A front end is a way for a host program to reach the UART: the pty (uart_pty.c), or a
 * TCP server on loopback, raw or RFC 2217 (uart_tcp.c). Each one is a struct
 * m0__uart_port seated on the board's struct m0__uart_line (uart_line.c), which is the
 * only thing that talks to the core's UART inputs (m0_dev_on_uart_rx, _host_attach,
 * _host_termios / _host_line, _uart_writable) and the only target of its UART outputs
 * (hal->uart_write, hal->uart_rx_enable). The rule that makes two front ends one UART:
 * the line has at most one host, the first front end to have one (its "owner"); the
 * core is attached exactly while there is an owner, and its bytes go only there. A
 * network front end refuses a client while another front end has a host; a pty cannot
 * refuse an open, so a program that opens the tty meanwhile waits unconnected (what it
 * writes is discarded, it reads nothing) and becomes the host when the client leaves.
 */
#ifndef M0_UART_H
#define M0_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "m0/dev.h"
#include "rfc2217_server.h"

struct m0__events;
struct m0__uart_line;

/* Observer of the bytes the UART moves: to_host = written toward the host (only what the
 * front end accepted), else read from the host. Called before the core sees host bytes. */
typedef void (*m0__uart_tap_fn)(void *tap_ctx, bool to_host, const uint8_t *data,
                                size_t len);

struct m0__uart_port;

/* What the line asks of a front end. */
struct m0__uart_port_ops {
  /* The core's bytes for this front end's host: how many it took (0..len); after a
   * short write it calls m0__uart_line_writable() once it has room. */
  size_t (*write)(struct m0__uart_port *port, const uint8_t *data, size_t len);
  /* Read the host (true) or stop (false): the core's receive pacing when this front end
   * owns the line; always true otherwise (a waiting host's bytes are read and dropped). */
  void (*rx_enable)(struct m0__uart_port *port, bool enable);
  /* This front end's host became the device's host (true) or stopped being it (false),
   * just before the core hears of it. NULL: nothing to do. */
  void (*owner)(struct m0__uart_port *port, bool owner);
};

/* One front end's seat on the line; embedded in the front end's own struct. */
struct m0__uart_port {
  const char *kind; /* "tty", "tcp", "rfc2217": names it in events and the log */
  const struct m0__uart_port_ops *ops;
  struct m0__uart_line *line; /* NULL until added */
  bool host;                  /* a host is on this front end */
  bool rx_on;                 /* what ops->rx_enable was last told */
  /* A front end that yields (the control channel's, uart_ctl.c): it owns the line only
   * while no other front end has a host, hands it over to one without the device seeing
   * a detach, and never makes another one busy. */
  bool yields;
  /* The host's line settings as last reported; replayed to the core when this front end
   * becomes the owner. */
  bool settings_known, format_known;
  uint32_t baud;
  uint8_t data_bits, stop_bits, parity;
};

/* A pty, up to M0__UART_NET_MAX network front ends and the control channel's (uart_ctl.c,
 * seated when a client first uses the UART). */
#define M0__UART_NET_MAX 4
#define M0__UART_PORTS_MAX (2 + M0__UART_NET_MAX)

struct m0__uart_line {
  struct m0_dev *dev; /* NULL until m0__uart_line_start */
  struct m0__events *events;
  struct m0__uart_port *ports[M0__UART_PORTS_MAX];
  size_t nports;
  struct m0__uart_port *owner; /* whose host is the device's host; NULL: detached */
  bool core_rx;                /* the core's last uart_rx_enable (it starts enabled) */
  uint64_t dropped;            /* bytes of waiting hosts, discarded */
  m0__uart_tap_fn tap;         /* NULL = none */
  void *tap_ctx;
};

void m0__uart_line_init(struct m0__uart_line *line, struct m0__events *events);
/* Seat a front end (at most M0__UART_PORTS_MAX; before m0__uart_line_start). */
void m0__uart_line_add(struct m0__uart_line *line, struct m0__uart_port *port,
                       const char *kind, const struct m0__uart_port_ops *ops);
/* The device exists: the line may reach it from now on. */
void m0__uart_line_start(struct m0__uart_line *line, struct m0_dev *dev);
/* Another front end than port has a host: a network client must be refused. */
bool m0__uart_line_busy(const struct m0__uart_line *line, const struct m0__uart_port *port);

/* Calls of a front end. */
/* Its host arrived (true) or left (false). */
void m0__uart_line_host(struct m0__uart_port *port, bool present);
/* Its host's line: data_bits 0 = unknown (a pty: speed and stop bits only). */
void m0__uart_line_settings(struct m0__uart_port *port, uint32_t baud, uint8_t data_bits,
                            uint8_t stop_bits, uint8_t parity);
/* How many host bytes it may read now (the core's budget, if it owns the line). */
size_t m0__uart_line_budget(struct m0__uart_port *port);
/* Bytes from its host: to the core, or dropped while another front end owns the line. */
void m0__uart_line_rx(struct m0__uart_port *port, const uint8_t *data, size_t len);
/* It has room again after a short write. */
void m0__uart_line_writable(struct m0__uart_port *port);

/* The HAL's UART outputs (board.c). */
size_t m0__uart_line_write(struct m0__uart_line *line, const uint8_t *data, size_t len);
void m0__uart_line_rx_enable(struct m0__uart_line *line, bool enable);

/* ---- uart_tcp.c: the UART as a TCP server, raw or RFC 2217 ---- */

/* One --uart option. */
struct m0__uart_net_cfg {
  bool rfc2217;  /* false: raw bytes */
  char addr[46]; /* an IPv4 or IPv6 literal (127.0.0.1 unless given; a fleet module's own) */
  bool addr_given; /* --uart KIND:ADDR:PORT, not KIND:PORT */
  uint16_t port; /* 0: any free port (the banner and uart.listening say which) */
};

/* Bytes waiting for the client in the server, at most (beyond the socket's own buffer):
 * then uart_write is short and the core waits, as with a host that stops reading a pty. */
#define M0__UART_TCP_OUT 16384
/* Telnet answers waiting, at most; the host's commands wait while it is full. */
#define M0__UART_TCP_CTRL 1024
/* One read from the client. */
#define M0__UART_TCP_IN 4096

struct m0__uart_tcp;

/* One accepted client: allocated per connection, freed by its close callback, so a
 * client still closing never shares buffers with the next one. */
struct m0__uart_conn {
  uv_tcp_t tcp;
  struct m0__uart_tcp *srv; /* NULL once it is closing */
  char peer[64];
  uv_write_t wreq;
  bool writing;                               /* wbuf is in flight */
  uint8_t wbuf[M0__UART_TCP_CTRL + M0__UART_TCP_OUT];
  uint8_t ctrl[M0__UART_TCP_CTRL];            /* Telnet answers, sent first */
  size_t ctrl_len;
  uint8_t out[M0__UART_TCP_OUT];              /* the module's bytes, framed */
  size_t out_len;
  uint8_t in[M0__UART_TCP_IN];                /* read, not yet taken */
  size_t in_off, in_len;
  bool reading;
  bool want_writable; /* a write was short: tell the line when there is room */
  bool broken;        /* a write failed at once: ended from the loop, not from the core */
  struct m0__rfc2217_server proto;
};

struct m0__uart_tcp {
  struct m0__uart_port port;
  uv_loop_t *loop;
  struct m0__events *events;
  struct m0__uart_net_cfg cfg;
  uint16_t bound_port;
  uv_tcp_t listener;
  bool listener_open;
  struct m0__uart_conn *conn; /* the client; NULL: none */
  uv_idle_t kick;             /* resumes input, or ends a broken client, from the loop */
};

/* Bind and listen (before the banner), seat on line. On failure err holds one line. */
int m0__uart_tcp_open(struct m0__uart_tcp *t, uv_loop_t *loop, struct m0__uart_line *line,
                      const struct m0__uart_net_cfg *cfg, struct m0__events *events,
                      char *err, size_t cap);
/* "rfc2217://127.0.0.1:7001" or "socket://[::1]:7002": what pyserial opens. */
void m0__uart_tcp_url(const struct m0__uart_tcp *t, char *out, size_t cap);
/* Close the listener and the client (uv_run afterwards to finish). */
void m0__uart_tcp_close(struct m0__uart_tcp *t);

#endif
