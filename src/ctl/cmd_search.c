/* cmd_search.c: m0ctl's `search`: find the modules on a LAN with the vendor's two UDP
 * 1500 searches (the codec is the core's, include/m0/udp1500.h, so the tool and the
 * emulator read every byte alike; socket and shared options: udp_io.h).
 *
 * One socket on an ephemeral port with SO_BROADCAST sends the FF search and the T24
 * search (to 255.255.255.255:1500 unless --to), then collects replies for --timeout (2 s,
 * what the public tools wait) and merges them by MAC, up to 256 modules: the FF reply
 * gives the name, current address and version, the T24 reply the work mode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "m0/udp1500.h"
#include "udp_io.h"

#define MODULES_MAX 256

enum { OPT_JSON = M0CTL_OPT_OWN, OPT_PROTOCOL };

static void ip_text(const uint8_t ip[4], char out[16]) {
  snprintf(out, 16, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

/* A JSON string of printable ASCII (names come from the network: escape the rest). */
static void json_text(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c < 0x20 || c > 0x7e)
      fprintf(out, "\\u%04x", c);
    else
      fputc(c, out);
  }
  fputc('"', out);
}

/* ---- search ---- */

static const char *const mode_names[] = {"UDPC", "TCPC", "UDPS", "TCPS"};

struct module {
  uint8_t mac[6];
  struct sockaddr_in from;
  bool ff, t24;
  struct m0_udp1500_ident id;
  struct m0_udp1500_t24 t;
};

static struct module *module_for(struct module *mods, unsigned *n, const uint8_t mac[6]) {
  unsigned i;
  for (i = 0; i < *n; i++) {
    if (memcmp(mods[i].mac, mac, 6) == 0)
      return &mods[i];
  }
  if (*n == MODULES_MAX)
    return NULL;
  memset(&mods[*n], 0, sizeof mods[*n]);
  memcpy(mods[*n].mac, mac, 6);
  return &mods[(*n)++];
}

static void print_module(const struct module *m, bool json) {
  char mac[13], ip[16], from[16], version[16] = "-";
  const char *mode = m->t24 && m->t.mode < 4 ? mode_names[m->t.mode] : "-";
  m0ctl_mac_text(m->mac, mac);
  inet_ntop(AF_INET, &m->from.sin_addr, from, sizeof from);
  if (m->ff) {
    ip_text(m->id.ip, ip);
    snprintf(version, sizeof version, "V%u", m->id.version);
  } else {
    snprintf(ip, sizeof ip, "%s", from); /* T24 only: where it answered from */
    snprintf(version, sizeof version, "0x%02X", m->t.version);
  }
  if (!json) {
    printf("%-16s %s  %-15s %-6s %s\n", m->ff && m->id.name[0] ? m->id.name : "-", mac, ip,
           version, mode);
    return;
  }
  printf("{\"name\":");
  json_text(stdout, m->ff ? m->id.name : "");
  printf(",\"mac\":\"%s\",\"ip\":\"%s\",\"version\":\"%s\",\"mode\":\"%s\",\"from\":\"%s:%u\","
         "\"ff\":%s,\"t24\":%s",
         mac, ip, version, mode, from, ntohs(m->from.sin_port), m->ff ? "true" : "false",
         m->t24 ? "true" : "false");
  if (m->ff)
    printf(",\"board_type\":%u,\"board_id\":%u,\"checksum_ok\":%s", m->id.board_type,
           m->id.board_id, m->id.sum_ok ? "true" : "false");
  if (m->t24) {
    char dest[16], mip[16], gw[16], mask[16];
    ip_text(m->t.dest_ip, dest);
    ip_text(m->t.ip, mip);
    ip_text(m->t.gateway, gw);
    ip_text(m->t.mask, mask);
    printf(",\"t24_version\":%u,\"peer\":\"%s:%u\",\"static_ip\":\"%s\",\"local_port\":%u,"
           "\"gateway\":\"%s\",\"mask\":\"%s\",\"baud\":%u,\"serial\":%u,\"flags\":%u",
           m->t.version, dest, m->t.dest_port, mip, m->t.port, gw, mask, (unsigned)m->t.baud,
           m->t.serial, m->t.flags);
  }
  printf("}\n");
}

static int search(const struct m0ctl_cmd *cmd, int argc, char **argv) {
  static const struct option longs[] = {
      {"to", required_argument, NULL, M0CTL_OPT_TO},
      {"port", required_argument, NULL, M0CTL_OPT_PORT},
      {"timeout", required_argument, NULL, M0CTL_OPT_TIMEOUT},
      {"json", no_argument, NULL, OPT_JSON},
      {"protocol", required_argument, NULL, OPT_PROTOCOL},
      {"help", no_argument, NULL, M0CTL_OPT_HELP},
      {NULL, 0, NULL, 0},
  };
  static struct module mods[MODULES_MAX];
  struct m0ctl_common c = {"255.255.255.255", M0_UDP1500_PORT, M0CTL_TIMEOUT_MS};
  struct m0ctl_target t;
  bool json = false, ff = true, t24 = true;
  unsigned n = 0, i;
  uint64_t deadline;
  int fd, opt, rc;
  optind = 0;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
    if ((rc = m0ctl_common_option(cmd, opt, optarg, &c)) > 1)
      return rc - 100;
    if (rc == 1)
      continue;
    if (opt == OPT_JSON) {
      json = true;
    } else if (opt == OPT_PROTOCOL) {
      ff = strcmp(optarg, "ff") == 0 || strcmp(optarg, "both") == 0;
      t24 = strcmp(optarg, "t24") == 0 || strcmp(optarg, "both") == 0;
      if (!ff && !t24)
        return m0ctl_usage(cmd, "--protocol: expected ff, t24 or both, got '%s'", optarg);
    } else if (opt == M0CTL_OPT_HELP) {
      m0ctl_cmd_help(cmd, stdout);
      return M0CTL_OK;
    } else {
      return m0ctl_bad_option(cmd, longs, opt, argv);
    }
  }
  if (optind < argc)
    return m0ctl_usage(cmd, "unexpected argument '%s'", argv[optind]);
  if ((rc = m0ctl_make_target(cmd, &c, &t)) != 0)
    return rc;
  fd = m0ctl_open_socket(cmd);
  if (fd < 0)
    return M0CTL_FAIL;
  if ((ff && m0ctl_send_to(cmd, fd, &t, m0_udp1500_ff_search,
                           sizeof m0_udp1500_ff_search) != 0) ||
      (t24 && m0ctl_send_to(cmd, fd, &t, m0_udp1500_t24_search,
                            sizeof m0_udp1500_t24_search) != 0)) {
    close(fd);
    return M0CTL_FAIL;
  }
  deadline = m0ctl_now_ms() + t.timeout_ms;
  for (;;) {
    uint8_t buf[2048];
    struct sockaddr_in from;
    struct m0_udp1500_ident id;
    struct m0_udp1500_t24 info;
    struct module *m;
    ssize_t len = m0ctl_receive(fd, deadline, buf, sizeof buf, &from);
    if (len < 0) {
      m0ctl_fail(cmd, "receive: %s", strerror(errno));
      close(fd);
      return M0CTL_FAIL;
    }
    if (len == 0)
      break;
    if (ff && m0_udp1500_search_reply_parse(buf, (size_t)len, &id) == 0) {
      if ((m = module_for(mods, &n, id.mac)) == NULL)
        continue;
      m->ff = true;
      m->id = id;
      m->from = from;
    } else if (t24 && m0_udp1500_t24_parse(buf, (size_t)len, &info) == 0) {
      if ((m = module_for(mods, &n, info.mac)) == NULL)
        continue;
      m->t24 = true;
      m->t = info;
      if (!m->ff)
        m->from = from;
    }
  }
  close(fd);
  for (i = 0; i < n; i++)
    print_module(&mods[i], json);
  if (n == 0) {
    fprintf(stderr, "m0ctl search: no module answered at %s:%u within %u ms\n", t.to,
            ntohs(t.addr.sin_port), t.timeout_ms);
    return M0CTL_FAIL;
  }
  return M0CTL_OK;
}

const struct m0ctl_cmd m0ctl_cmd_search = {
    .name = "search",
    .usage = "[--to ADDR] [--port PORT] [--timeout MS] [--protocol ff|t24|both] [--json]",
    .summary = "find modules: the FF and T24 searches, one line per module that answers",
    .help = "  --to ADDR       where to send (default 255.255.255.255: every module on the LAN)\n"
            "  --port PORT     the modules' port (default 1500)\n"
            "  --timeout MS    how long to collect replies (default 2000)\n"
            "  --protocol P    ff, t24 or both (default both)\n"
            "  --json          one JSON object per module instead of a line\n"
            "Each line: name, MAC, IP, version, work mode (- when unknown). Exit 1 when no\n"
            "module answered.\n",
    .exec = search,
};
