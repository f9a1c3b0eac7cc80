/* udp_io.c: what m0ctl's UDP 1500 commands (cmd_search.c, cmd_netset.c) share: the
 * socket, sending, receiving against a deadline, and the options every one of them takes
 * (--to, --port, --timeout; see udp_io.h).
 *
 * One IPv4 datagram socket on an ephemeral port with SO_BROADCAST, since both commands
 * default to 255.255.255.255:1500. Replies are awaited with poll() on the monotonic clock
 * up to a deadline (2 s by default, at most 600 s); an ICMP port unreachable from an
 * earlier send does not end the wait.
 */
#include "udp_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t m0ctl_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
  char *end;
  unsigned long v;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

/* An IPv4 address or a name with an IPv4 address. */
static int resolve(const char *host, uint16_t port, struct sockaddr_in *out) {
  struct addrinfo hints, *res = NULL;
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons(port);
  if (inet_pton(AF_INET, host, &out->sin_addr) == 1)
    return 0;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
    return -1;
  out->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return 0;
}

int m0ctl_open_socket(const struct m0ctl_cmd *cmd) {
  int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    m0ctl_fail(cmd, "socket: %s", strerror(errno));
    return -1;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) {
    m0ctl_fail(cmd, "SO_BROADCAST: %s", strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

int m0ctl_send_to(const struct m0ctl_cmd *cmd, int fd, const struct m0ctl_target *t,
                  const uint8_t *data, size_t len) {
  if (sendto(fd, data, len, 0, (const struct sockaddr *)&t->addr, sizeof t->addr) < 0) {
    m0ctl_fail(cmd, "cannot send to %s:%u: %s", t->to, ntohs(t->addr.sin_port),
               strerror(errno));
    return -1;
  }
  return 0;
}

ssize_t m0ctl_receive(int fd, uint64_t deadline, uint8_t *buf, size_t cap,
                      struct sockaddr_in *from) {
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t now = m0ctl_now_ms();
    socklen_t fl = sizeof *from;
    ssize_t n;
    int rc;
    if (now >= deadline)
      return 0;
    rc = poll(&p, 1, (int)(deadline - now));
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc < 0)
      return -1;
    if (rc == 0)
      return 0;
    n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &fl);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNREFUSED))
      continue; /* ICMP port unreachable from an earlier send: wait on */
    if (n < 0)
      return -1;
    if (n > 0)
      return n;
  }
}

void m0ctl_mac_text(const uint8_t mac[6], char out[13]) {
  snprintf(out, 13, "%02X%02X%02X%02X%02X%02X", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int m0ctl_common_option(const struct m0ctl_cmd *cmd, int opt, const char *arg,
                        struct m0ctl_common *c) {
  switch (opt) {
  case M0CTL_OPT_TO:
    c->to = arg;
    return 1;
  case M0CTL_OPT_PORT:
    if (parse_num(arg, 1, 65535, &c->port) != 0)
      return m0ctl_usage(cmd, "--port: expected a port 1-65535, got '%s'", arg) + 100;
    return 1;
  case M0CTL_OPT_TIMEOUT:
    if (parse_num(arg, 1, M0CTL_TIMEOUT_MAX_MS, &c->timeout) != 0)
      return m0ctl_usage(cmd, "--timeout: expected milliseconds 1-%u, got '%s'",
                         M0CTL_TIMEOUT_MAX_MS, arg) + 100;
    return 1;
  default:
    return 0;
  }
}

int m0ctl_bad_option(const struct m0ctl_cmd *cmd, const struct option *longs, int opt,
                     char **argv) {
  if (opt == ':') {
    const struct option *o;
    for (o = longs; o->name != NULL; o++) {
      if (o->val == optopt)
        return m0ctl_usage(cmd, "--%s: missing value", o->name);
    }
  }
  return m0ctl_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}

int m0ctl_make_target(const struct m0ctl_cmd *cmd, const struct m0ctl_common *c,
                      struct m0ctl_target *t) {
  t->to = c->to;
  t->timeout_ms = (unsigned)c->timeout;
  if (resolve(c->to, (uint16_t)c->port, &t->addr) != 0)
    return m0ctl_usage(cmd, "--to: not an IPv4 address or known host name: '%s'", c->to);
  return 0;
}
