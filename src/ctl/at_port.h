/* at_port.h: a serial port with a USR-M0 on it, as m0ctl's AT commands (cmd_at.c) use
 * it: options, command mode entered from any state, one command line and its reply
 * (at_port.c has how).
 */
#ifndef M0CTL_AT_PORT_H
#define M0CTL_AT_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctl.h"

#define M0CTL_PORT_BUF_MAX 65536
#define M0CTL_AT_LINE_MAX 256 /* one command line, without its CR */

enum m0ctl_dialect { M0CTL_DIALECT_AUTO, M0CTL_DIALECT_DOC, M0CTL_DIALECT_FIELD };

struct m0ctl_port {
  const struct m0ctl_cmd *cmd;
  const char *path;
  int fd;
  unsigned long long baud;
  enum m0ctl_dialect dialect;
  uint64_t timeout_ms;
  bool stay;
  bool verbose;
  bool in_command;  /* the module is in command mode now */
  bool probed;      /* the first entry (the only one that may probe with a CR) is done */
  unsigned char buf[M0CTL_PORT_BUF_MAX];
  size_t len;
};

#define M0CTL_PORT_HELP                                                                      \
  "  --tty PATH      the serial port: the emulator's --tty, /dev/ttyUSB0, ... (required)\n" \
  "  --baud N        its speed (default 115200, the factory AT+UART); 8N1, no flow control\n" \
  "  --dialect D     doc, field or auto (default): the spelling the module answers with\n" \
  "                  (+ok or +OK); a module that answers otherwise gets a warning\n"         \
  "  --timeout S     how long to wait for each reply (default 5)\n"                        \
  "  --stay          stay in command mode at the end (default: AT+ENTM)\n"                 \
  "  --verbose       say what was dropped on the way and how command mode was found\n"

/* A port for cmd from its options (argv[optind..] are then the command's arguments), not
 * open yet; NULL with *rc the exit status after --help (M0CTL_OK) or a usage error. */
struct m0ctl_port *m0ctl_port_new(const struct m0ctl_cmd *cmd, int argc, char **argv, int *rc);
/* Open p->path raw at p->baud, 8N1, no flow control: an exit status. */
int m0ctl_port_open(struct m0ctl_port *p);
/* One command line; its reply body (several lines for AT+H, joined with \n) in out.
 * Enters command mode first when needed. Returns M0CTL_OK (reply in out, maybe +ERR) or
 * M0CTL_FAIL (timeout, I/O; the message printed). */
int m0ctl_port_command(struct m0ctl_port *p, const char *line, char *out, size_t cap);
/* Open the port and send lines in order, printing each reply on its own line; stop at
 * the first +ERR (M0CTL_FAIL) or failure. */
int m0ctl_port_run(struct m0ctl_port *p, char lines[][M0CTL_AT_LINE_MAX + 8], size_t n);
/* The end of every command: back to transparent mode with AT+ENTM (unless --stay or not
 * in command mode; whatever happened before, so the module moves data again), the port
 * closed, p freed. Returns rc, or M0CTL_FAIL when leaving failed. */
int m0ctl_port_end(struct m0ctl_port *p, int rc);

/* Is this reply body an error (+ERR=-N)? */
static inline bool m0ctl_at_is_err(const char *body) { return strncmp(body, "+ERR", 4) == 0; }

#endif
