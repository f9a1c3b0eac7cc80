/* udp_io.h: the UDP socket and option helpers m0ctl's UDP 1500 commands share
 * (udp_io.c; used by cmd_search.c and cmd_netset.c).
 *
 * Every such command takes --to ADDR (default 255.255.255.255), --port PORT (default
 * 1500) and --timeout MS (default 2000, what the public tools wait; at most 600000), and
 * talks through one broadcast-capable socket to the target they make.
 */
#ifndef M0CTL_UDP_IO_H
#define M0CTL_UDP_IO_H

#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ctl.h"

#define M0CTL_TIMEOUT_MS 2000
#define M0CTL_TIMEOUT_MAX_MS 600000

/* Where a command sends and how long it waits for each answer. */
struct m0ctl_target {
  const char *to; /* the address given */
  struct sockaddr_in addr;
  unsigned timeout_ms;
};

/* The shared options as given. */
struct m0ctl_common {
  const char *to;
  unsigned long port, timeout;
};

/* getopt_long values: the shared options, then each command's own from M0CTL_OPT_OWN. */
enum { M0CTL_OPT_TO = 300, M0CTL_OPT_PORT, M0CTL_OPT_TIMEOUT, M0CTL_OPT_HELP, M0CTL_OPT_OWN };

/* The monotonic clock in ms (deadlines). */
uint64_t m0ctl_now_ms(void);
/* An IPv4 UDP socket with SO_BROADCAST; -1 after the message on failure. */
int m0ctl_open_socket(const struct m0ctl_cmd *cmd);
/* Send one datagram to t. Returns 0, or -1 after the message. */
int m0ctl_send_to(const struct m0ctl_cmd *cmd, int fd, const struct m0ctl_target *t,
                  const uint8_t *data, size_t len);
/* One datagram before `deadline` (ms): its length, 0 at the deadline, -1 on error. */
ssize_t m0ctl_receive(int fd, uint64_t deadline, uint8_t *buf, size_t cap,
                      struct sockaddr_in *from);
/* A MAC as 12 upper-case hex digits. */
void m0ctl_mac_text(const uint8_t mac[6], char out[13]);

/* --to, --port, --timeout: shared option parsing. Returns 1 if opt was one of them, 0 if
 * not, or M0CTL_USAGE + 100 on a bad value (after the message). */
int m0ctl_common_option(const struct m0ctl_cmd *cmd, int opt, const char *arg,
                        struct m0ctl_common *c);
/* The usage error for an option getopt_long refused (unknown, or missing its value). */
int m0ctl_bad_option(const struct m0ctl_cmd *cmd, const struct option *longs, int opt,
                     char **argv);
/* Resolve the options into t. Returns 0, or M0CTL_USAGE after the message. */
int m0ctl_make_target(const struct m0ctl_cmd *cmd, const struct m0ctl_common *c,
                      struct m0ctl_target *t);

#endif
