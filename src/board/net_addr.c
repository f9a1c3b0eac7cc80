/* net_addr.c: where a device's address really is, and back (spec §6.1).
 *
 * The device sees its own network (SOCK's address, a LAN address or a name); the host
 * machine has another. --net loopback: every dialled address becomes 127.0.0.1 (::1 on an
 * IPv6 socket) with the same port and names are never resolved, so one machine plays
 * every peer; --net host: literals are dialled as they are and names are looked up. A
 * datagram from the host machine on the configured peer's port is reported as coming
 * from that peer (the UDP source rewrite), so UDPC's "only its peer" works on one
 * machine. A device port below 1024 that needs privileges is bound at 8000+port, the one
 * rule for links and the web server. Pure address arithmetic: no socket is touched here.
 */
#include <string.h>

#include "net_internal.h"

#define PRIVILEGED_BELOW 1024
#define PRIVILEGED_MAP 8000 /* device port P < 1024 becomes host port 8000+P */

bool m0__net_port_unprivileged(int bind_rc, uint16_t port, uint16_t *host_port) {
  if ((bind_rc != UV_EACCES && bind_rc != UV_EPERM) || port == 0 || port >= PRIVILEGED_BELOW)
    return false;
  *host_port = (uint16_t)(PRIVILEGED_MAP + port);
  return true;
}

static void copy_host(char *dst, size_t cap, const char *src) {
  size_t len = strnlen(src, cap - 1);
  memcpy(dst, src, len);
  dst[len] = '\0';
}

static bool is_v4_mapped(const struct sockaddr_in6 *a) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return memcmp(a->sin6_addr.s6_addr, prefix, sizeof prefix) == 0;
}

/* ::ffff:a.b.c.d, for an IPv4 destination on an IPv6 socket (dual stack). */
static void to_v4_mapped(struct sockaddr_storage *ss) {
  struct sockaddr_in v4;
  memcpy(&v4, ss, sizeof v4);
  struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = v4.sin_port};
  v6.sin6_addr.s6_addr[10] = 0xff;
  v6.sin6_addr.s6_addr[11] = 0xff;
  memcpy(&v6.sin6_addr.s6_addr[12], &v4.sin_addr, 4);
  memset(ss, 0, sizeof *ss);
  memcpy(ss, &v6, sizeof v6);
}

void m0__net_sockaddr_to_addr(const struct sockaddr *sa, struct m0_net_addr *out) {
  char ip[INET6_ADDRSTRLEN] = "";
  out->port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    uv_ip4_name(a, ip, sizeof ip);
    out->port = ntohs(a->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    if (is_v4_mapped(a)) {
      struct sockaddr_in v4 = {.sin_family = AF_INET};
      memcpy(&v4.sin_addr, &a->sin6_addr.s6_addr[12], 4);
      uv_ip4_name(&v4, ip, sizeof ip);
    } else {
      uv_ip6_name(a, ip, sizeof ip); /* longer than M0_SOCK_ADDR_MAX at worst: cut */
    }
    out->port = ntohs(a->sin6_port);
  }
  copy_host(out->host, sizeof out->host, ip);
}

const char *m0__net_json_sockaddr(char *buf, size_t cap, const struct sockaddr *sa) {
  char ip[INET6_ADDRSTRLEN] = "";
  unsigned port = 0;
  if (sa->sa_family == AF_INET) {
    uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
  }
  return m0_json_hostport(buf, cap, ip, port);
}

static bool is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    if (is_v4_mapped(a))
      return a->sin6_addr.s6_addr[12] == 127;
    static const uint8_t one[16] = {[15] = 1};
    return memcmp(a->sin6_addr.s6_addr, one, 16) == 0;
  }
  return false;
}

void m0__net_set_port(struct sockaddr_storage *ss, uint16_t port) {
  if (ss->ss_family == AF_INET)
    ((struct sockaddr_in *)ss)->sin_port = htons(port);
  else
    ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

int m0__net_bind_addr(const char *bind_addr, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (bind_addr == NULL)
    bind_addr = "127.0.0.1";
  if (uv_ip4_addr(bind_addr, 0, (struct sockaddr_in *)out) != 0 &&
      uv_ip6_addr(bind_addr, 0, (struct sockaddr_in6 *)out) != 0)
    return UV_EINVAL;
  return 0;
}

/* Loopback mode: the host machine plays every peer, so 127.0.0.1 (::1 on an IPv6 socket)
 * and the same port, names not resolved. Host mode: the literal, or a lookup for a name. */
int m0__net_dial_addr(const struct m0__net *n, const struct m0_net_addr *a, int sock_family,
                      struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (!n->net_host && m0__peer_find(n->peers, a, (struct sockaddr_in *)out)) {
    if (sock_family == AF_INET6)
      to_v4_mapped(out);
    return 0;
  }
  if (!n->net_host) {
    if (sock_family == AF_INET6)
      return uv_ip6_addr("::1", a->port, (struct sockaddr_in6 *)out);
    return uv_ip4_addr("127.0.0.1", a->port, (struct sockaddr_in *)out);
  }
  if (uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)out) == 0) {
    if (sock_family == AF_INET6)
      to_v4_mapped(out);
    return 0;
  }
  if (uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)out) == 0)
    return sock_family == AF_INET ? UV_EAFNOSUPPORT : 0;
  return a->host[0] == '\0' ? UV_EINVAL : M0__NET_NEED_LOOKUP;
}

/* The first address of the wanted family; an IPv4 one serves an IPv6 socket mapped. */
bool m0__net_pick_addr(const struct addrinfo *res, int sock_family, uint16_t port,
                       struct sockaddr_storage *out) {
  const struct addrinfo *v4 = NULL, *v6 = NULL;
  for (const struct addrinfo *a = res; a != NULL; a = a->ai_next) {
    if (a->ai_family == AF_INET && v4 == NULL)
      v4 = a;
    else if (a->ai_family == AF_INET6 && v6 == NULL)
      v6 = a;
  }
  const struct addrinfo *a = sock_family == AF_INET6 ? (v6 ? v6 : v4)
                             : sock_family == AF_INET ? v4
                                                      : (v4 ? v4 : v6);
  if (a == NULL)
    return false;
  memset(out, 0, sizeof *out);
  memcpy(out, a->ai_addr, a->ai_addrlen);
  m0__net_set_port(out, port);
  if (sock_family == AF_INET6 && out->ss_family == AF_INET)
    to_v4_mapped(out);
  return true;
}

/* In loopback mode every peer is 127.0.0.1, and this is what lets UDPC's "accept only its
 * peer" (the core compares against SOCK's address, possibly a LAN address or a name) work
 * on one machine. Other sources are reported as they are (127.0.0.1:port), so UDPS answers
 * them through the same mapping on the way out. */
void m0__net_source_as_device(const struct m0__net *n, const struct m0_net_addr *peer,
                              const struct sockaddr_storage *dial, const struct sockaddr *sa,
                              struct m0_net_addr *from) {
  m0__net_sockaddr_to_addr(sa, from);
  if (n->net_host || peer->port == 0 || !is_loopback(sa))
    return;
  bool from_dial = false; /* sa is where the peer really is (its --peer target) */
  if (dial != NULL) {
    struct m0_net_addr d;
    m0__net_sockaddr_to_addr((const struct sockaddr *)dial, &d);
    from_dial = d.port == from->port && strcmp(d.host, from->host) == 0;
  }
  if (from->port == peer->port || from_dial) {
    copy_host(from->host, sizeof from->host, peer->host);
    from->port = peer->port;
  }
}

bool m0__net_is_loopback(const struct sockaddr *sa) {
  return is_loopback(sa);
}
