/* control.h: the control channel (docs/control.md), the process's JSON-lines server for
 * tests and tools: what QMP is to QEMU.
 *
 * One struct m0__control per process, listening on a Unix socket (--control PATH) and,
 * optionally, a loopback TCP port (--control-port). Every connection is one client
 * (control.c): a greeting, then one JSON request per line, each answered by exactly one
 * response line with the request's id; events (the same lines as --events) and UART
 * bytes follow on the same connection once asked for. Requests run through one table of
 * commands (control_cmd.c; the fault commands' piece in control_fault.c), each naming
 * its parameters with their types and ranges, so a bad request is refused with a
 * precise error before anything changes. The UART
 * without a pty is uart_ctl.c. Nothing here holds device policy: requests become
 * m0_dev_*() inputs (faults included, include/m0/fault.h) and the answers read the
 * device's status.
 */
#ifndef M0_BOARD_CONTROL_H
#define M0_BOARD_CONTROL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "m0/json.h"

struct m0__proc;
struct m0__board;
struct m0__ctl_client; /* one connection; private to control.c */

/* Limits (docs/control.md). */
#define M0__CTL_LINE_MAX (256 * 1024)      /* a request line (64 KiB of UART bytes in hex) */
#define M0__CTL_MEMBERS_MAX 32             /* members of a request */
#define M0__CTL_CLIENTS_MAX 256            /* connections at once; the next is told and closed */
#define M0__CTL_STREAM_MAX (1024 * 1024)   /* events and UART bytes a client may owe: beyond,
                                            * they are dropped for it and counted */
#define M0__CTL_READ_PAUSE (1024 * 1024)   /* a client owing this much is not read meanwhile */
#define M0__CTL_OWED_MAX (16 * 1024 * 1024) /* a client owing this much is disconnected */
#define M0__CTL_HISTORY 512                /* recent event lines kept for subscribe's replay */
#define M0__CTL_PROTOCOL 1

/* A growable text buffer for answers; after an allocation failure it stays as it was and
 * `failed` says so (the answer is then an internal error). */
struct m0__jbuf {
  char *s;
  size_t len, cap;
  bool failed;
};
void m0__jb_free(struct m0__jbuf *b);
void m0__jb_add(struct m0__jbuf *b, const char *s, size_t n);
/* A string literal, its length counted by the compiler. */
#define M0__JB_LIT(b, lit) m0__jb_add((b), "" lit, sizeof(lit) - 1)
void m0__jb_printf(struct m0__jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string (text: UTF-8 passes). */
void m0__jb_str(struct m0__jbuf *b, const char *s);
/* bytes as a JSON string (bytes reading: \u00XX above 0x7e). */
void m0__jb_bytes(struct m0__jbuf *b, const uint8_t *data, size_t len);
void m0__jb_hex(struct m0__jbuf *b, const uint8_t *data, size_t len);

struct m0__control {
  struct m0__proc *proc;
  uv_loop_t *loop;
  uv_pipe_t unix_srv;
  bool unix_open;
  char path[PATH_MAX];
  bool path_made; /* we created the socket file: we remove it */
  uv_tcp_t tcp_srv;
  bool tcp_open;
  uint16_t tcp_port; /* bound (0: none) */
  struct m0__ctl_client *clients; /* every connection, open or closing */
  unsigned nclients;              /* open ones */
  unsigned long next_client;      /* numbers clients in the log */
  char *rbuf;                     /* one read at a time for every client */
  char *history[M0__CTL_HISTORY]; /* a ring of recent event lines */
  unsigned hist_head, hist_len;
  bool closing;
};

/* One request being answered (control_cmd.c reads it, control.c owns it). */
struct m0__ctl_req {
  struct m0__control *ctl;
  struct m0__ctl_client *client;
  const struct m0_json_member *m;
  unsigned n;
  char id[96];              /* the id as JSON ("null" when absent) */
  const char *cmd;
  struct m0__board *board;  /* the device it names (or the only one); NULL: the process */
  uint64_t t_ms;            /* when it arrived, on the event stream's clock */
  bool answered;
};

/* Start keeping the event history (the sink's tap): before the boards are made, so the
 * replay holds the process's first events. 0 or -ENOMEM; m0__control_free is due either
 * way. */
int m0__control_init(struct m0__control *c, struct m0__proc *p);
/* Open the listeners (path NULL: none; tcp_port 0: none) and start taking clients, once
 * every board exists (the greeting names them). On failure err holds one line;
 * m0__control_close is due either way. */
int m0__control_open(struct m0__control *c, const char *path, uint16_t tcp_port, char *err,
                     size_t cap);
/* Close every client and listener and remove the socket file (then uv_run). */
void m0__control_close(struct m0__control *c);
/* Free what the handles no longer use (after the loop ran the closes). */
void m0__control_free(struct m0__control *c);

/* ---- answering (control.c) ---- */

/* The success answer; result is a JSON value's text (NULL: {}). */
void m0__ctl_ok(struct m0__ctl_req *r, const char *result);
/* The error answer: code (docs/control.md) and a one-line message. Returns -1. */
int m0__ctl_error(struct m0__ctl_req *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An answer that comes later (uart.write once its bytes are taken): the client and id to
 * give to m0__ctl_ok_later(); the client pointer is valid until m0__uart_ctl_forget(). */
void m0__ctl_ok_later(struct m0__control *c, struct m0__ctl_client *client, const char *id,
                      const char *result);

/* Stream lines (events, UART bytes): dropped and counted for a client that owes more
 * than M0__CTL_STREAM_MAX (uart: bytes counts as lost UART bytes). */
void m0__ctl_stream(struct m0__ctl_client *client, const char *line, size_t len,
                    size_t uart_bytes);
/* Bytes queued to the client and not written yet. */
size_t m0__ctl_owed(const struct m0__ctl_client *client);
/* Event subscription of a client: all devices (dev NULL) or one; replay up to `replay`
 * recent lines with t_ms >= since_ms first. */
void m0__ctl_subscribe(struct m0__ctl_req *r, const char *dev, unsigned replay,
                       uint64_t since_ms);
void m0__ctl_unsubscribe(struct m0__ctl_req *r);
/* Every connection: its number, what it owes (bytes queued to it), what it lost. */
void m0__ctl_clients(struct m0__ctl_req *r, struct m0__jbuf *out);

/* ---- the command table (control_cmd.c) ---- */

/* Run one parsed request: find its command, check its members, resolve its device,
 * answer. */
void m0__ctl_dispatch(struct m0__ctl_req *r);

/* ---- the UART without a pty (uart_ctl.c) ---- */

/* Per device, allocated on first use; b->uart_ctl. */
struct m0__uart_ctl;
/* Subscribe / unsubscribe client to the bytes the device sends its host, as "data" (one
 * character per byte) or "hex" (binary costs 2 bytes a byte, not up to 6); hold: the
 * device waits for this subscriber as for a tty host, so it loses nothing. Returns 0 or
 * a negative errno (out of memory). While a device has a subscriber its host is
 * attached. */
int m0__uart_ctl_subscribe(struct m0__board *b, struct m0__ctl_client *client, bool hex,
                           bool hold);
/* A client's output queue went down: a device held back by a holding subscriber may
 * write again. */
void m0__uart_ctl_drained(struct m0__board *b);
void m0__uart_ctl_unsubscribe(struct m0__board *b, struct m0__ctl_client *client);
/* Bytes as if the host had sent them: queued, fed to the device at its receive pace;
 * the answer (id) goes when the last of them was taken. 0, or -EBUSY when more than
 * M0__UART_CTL_QUEUE_MAX would wait, -ENOMEM. */
#define M0__UART_CTL_QUEUE_MAX (256 * 1024)
int m0__uart_ctl_write(struct m0__board *b, struct m0__ctl_client *client, const char *id,
                       const uint8_t *data, size_t len);
/* The client went away: it is no subscriber and no answer is owed to it any more. */
void m0__uart_ctl_forget(struct m0__board *b, struct m0__ctl_client *client);
/* Status: subscribers, bytes waiting, lost. */
void m0__uart_ctl_status(struct m0__board *b, struct m0__jbuf *out);
/* The board's HAL: bytes toward the host (the pty when a host has it open, the
 * subscribers always), reading allowed again; attach changes of the pty. */
size_t m0__uart_ctl_to_host(struct m0__board *b, const uint8_t *data, size_t len);
void m0__uart_ctl_rx_enable(struct m0__board *b, bool enable);
void m0__uart_ctl_close(struct m0__board *b);
void m0__uart_ctl_free(struct m0__board *b);

#endif
