/* udp_io.h: the UDP socket and option helpers m0ctl's UDP 1500 commands share
 * (udp_io.c; used by cmd_search.c and cmd_netset.c).
 *
 * Every such command takes --to ADDR (default 255.255.255.255), --port PORT (default
 * 1500) and --timeout S (seconds, as in every m0ctl command; default 2, what the public
 * tools wait; at most 600), and
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
  unsigned long port, timeout; /* timeout in ms */
};

/* getopt_long values: the shared options, then each command's own from M0CTL_OPT_OWN. */
enum { M0CTL_OPT_TO = M0CTL_OPT_GROUP, M0CTL_OPT_PORT, M0CTL_OPT_TIMEOUT, M0CTL_OPT_OWN };

#define M0CTL_UDP_LONGS                                                                      \
  {"to", required_argument, NULL, M0CTL_OPT_TO},                                             \
      {"port", required_argument, NULL, M0CTL_OPT_PORT},                                     \
      {"timeout", required_argument, NULL, M0CTL_OPT_TIMEOUT},                               \
      {"help", no_argument, NULL, M0CTL_OPT_HELP}

/* (The monotonic clock in ms, m0ctl_now_ms, is ctl.h's.) */
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

/* A command's options (m0ctl_options): --to, --port and --timeout into c (from their
 * defaults: the broadcast address, 1500, 2 s), the rest through own. Returns M0CTL_OK
 * (with *done after --help) or M0CTL_USAGE. */
int m0ctl_udp_options(const struct m0ctl_cmd *cmd, int argc, char **argv,
                      const struct option *longs, struct m0ctl_common *c, m0ctl_option_fn own,
                      void *ctx, bool *done);
/* Resolve the options into t. Returns 0, or M0CTL_USAGE after the message. */
int m0ctl_make_target(const struct m0ctl_cmd *cmd, const struct m0ctl_common *c,
                      struct m0ctl_target *t);

#endif
