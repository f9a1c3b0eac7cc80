/* test_fleet.c: a fleet's identities, its plan, the locks, the peer map and the fleet's
 * command line (src/board/fleet.c, cli.c), without a loop.
 *
 * Module k's name, address and MAC follow from k alone (addresses skip last octets 0
 * and 255 and never leave 127/8); a plan lists 1..N, or the module folders a reused
 * folder holds; a lock held is refused naming its holder, and a dead holder's is taken
 * over; the peer map prefers an entry with a port and keeps the dialled port when the
 * map gives none; the command line refuses what a fleet cannot mean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board.h"

/* fleet.c's map writer asks the web server its port; no web server here. */
uint16_t m0__web_port(const struct m0__web *w) {
  (void)w;
  return 0;
}

static char *addr_of(uint32_t base, unsigned k, char *out) {
  uint32_t a;
  if (m0__fleet_addr(base, k, &a) != 0)
    return strcpy(out, "range");
  struct in_addr ia = {.s_addr = htonl(a)};
  return (char *)inet_ntop(AF_INET, &ia, out, INET_ADDRSTRLEN);
}

static void test_names_addresses_macs(void **state) {
  (void)state;
  char s[64];
  m0__fleet_name(s, sizeof s, "m", 1);
  assert_string_equal(s, "m0001");
  m0__fleet_name(s, sizeof s, "dev-", 12345);
  assert_string_equal(s, "dev-12345");
  uint32_t base = 0x7F000101u; /* 127.0.1.1 */
  assert_string_equal(addr_of(base, 1, s), "127.0.1.1");
  assert_string_equal(addr_of(base, 254, s), "127.0.1.254");
  assert_string_equal(addr_of(base, 255, s), "127.0.2.1");
  assert_string_equal(addr_of(base, 10000, s), "127.0.40.94");
  assert_string_equal(addr_of(0x7F6E0032u, 300, s), "127.110.1.95"); /* from .50 */
  assert_string_equal(addr_of(0x7FFFFFFEu, 1, s), "127.255.255.254");
  assert_string_equal(addr_of(0x7FFFFFFEu, 2, s), "range"); /* past 127/8 */
  assert_string_equal(addr_of(0x7F000100u, 1, s), "range"); /* a base ending in .0 */
  assert_string_equal(addr_of(base, 0, s), "range");
  char mac[13];
  m0__fleet_mac("D8B04C0000FF", 2, mac);
  assert_string_equal(mac, "D8B04C000100");
  m0__fleet_mac("FFFFFFFFFFFF", 2, mac);
  assert_string_equal(mac, "000000000000"); /* 48 bits wrap */
  m0__fleet_mac_base("/some/folder", mac);
  assert_memory_equal(mac, "D8B04C", 6);
  assert_string_equal(mac + 8, "0000");
  char other[13];
  m0__fleet_mac_base("/some/folder", other);
  assert_string_equal(mac, other); /* the same folder, the same range */
}

static void test_peer_map(void **state) {
  (void)state;
  struct m0__peer_map map = {0};
  char err[256];
  assert_int_equal(m0__peer_parse(&map, "10.0.0.1=127.0.0.5", err, sizeof err), 0);
  assert_int_equal(m0__peer_parse(&map, "10.0.0.1:80=127.0.0.6:9000", err, sizeof err), 0);
  assert_int_equal(m0__peer_parse(&map, "Server.Example=127.0.0.7:1234", err, sizeof err), 0);
  struct m0_net_addr a = {.host = "10.0.0.1", .port = 80};
  struct sockaddr_in out;
  char ip[INET_ADDRSTRLEN];
  assert_true(m0__peer_find(&map, &a, &out));
  assert_string_equal(inet_ntop(AF_INET, &out.sin_addr, ip, sizeof ip), "127.0.0.6");
  assert_int_equal(ntohs(out.sin_port), 9000); /* the entry with the port wins */
  a.port = 81;
  assert_true(m0__peer_find(&map, &a, &out));
  assert_string_equal(inet_ntop(AF_INET, &out.sin_addr, ip, sizeof ip), "127.0.0.5");
  assert_int_equal(ntohs(out.sin_port), 81); /* no port in the map: the dialled one */
  struct m0_net_addr name = {.host = "server.example", .port = 5};
  assert_true(m0__peer_find(&map, &name, &out));
  assert_int_equal(ntohs(out.sin_port), 1234);
  struct m0_net_addr none = {.host = "10.0.0.2", .port = 80};
  assert_false(m0__peer_find(&map, &none, &out));
  assert_false(m0__peer_find(NULL, &a, &out));
  /* Refused: each says why, nothing is added. */
  const char *bad[] = {"10.0.0.1", "=127.0.0.1", "10.0.0.9=10.0.0.1", "10.0.0.9=127.0.0.1:0",
                       "10.0.0.9:70000=127.0.0.1", "10.0.0.9=localhost", "10.0.0.1=127.0.0.9",
                       "a:b:c=127.0.0.1", "0123456789012345678901234567890=127.0.0.1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(m0__peer_parse(&map, bad[i], err, sizeof err), -1);
    assert_true(err[0] != '\0');
  }
  assert_int_equal(map.n, 3);
}

static char tmp[] = "/tmp/m0-test-fleet.XXXXXX";

static void touch_dir(const char *name) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", tmp, name);
  assert_int_equal(mkdir(p, 0755), 0);
}

static void test_plan(void **state) {
  (void)state;
  char dir[PATH_MAX], err[512];
  snprintf(dir, sizeof dir, "%s/f", tmp);
  struct m0__fleet f;
  /* A new folder and no count: nothing to run, say what to do. */
  assert_int_equal(m0__fleet_plan(&f, dir, 0, "m", "127.0.1.1", "", err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "give --count N"));
  m0__fleet_free(&f);
  assert_int_equal(m0__fleet_plan(&f, dir, 3, "m", "127.0.1.253", "D8B04C0000FE", err,
                                  sizeof err), 0);
  assert_int_equal(f.count, 3);
  assert_string_equal(f.members[2].name, "m0003");
  assert_string_equal(f.members[0].addr, "127.0.1.253");
  assert_string_equal(f.members[2].addr, "127.0.2.1");
  assert_string_equal(f.members[2].mac, "D8B04C000100");
  char want[PATH_MAX + 16];
  snprintf(want, sizeof want, "%s/m0002", f.dir);
  assert_string_equal(f.members[1].state, want);
  snprintf(want, sizeof want, "%s/m0002/tty", f.dir);
  assert_string_equal(f.members[1].tty, want);
  m0__fleet_free(&f);
  /* Reused without a count: the module folders it holds, by number; others ignored. */
  touch_dir("f/m0002");
  touch_dir("f/m0010");
  touch_dir("f/m10"); /* not four digits: not a name a module ever had */
  touch_dir("f/notes");
  touch_dir("f/x0003");
  assert_int_equal(m0__fleet_plan(&f, dir, 0, "m", "127.0.1.1", "", err, sizeof err), 0);
  assert_int_equal(f.count, 2);
  assert_int_equal(f.members[0].k, 2);
  assert_string_equal(f.members[0].addr, "127.0.1.2");
  assert_int_equal(f.members[1].k, 10);
  assert_string_equal(f.members[1].addr, "127.0.1.10");
  m0__fleet_free(&f);
  /* Past the end of 127/8. */
  assert_int_equal(m0__fleet_plan(&f, dir, 3, "m", "127.255.255.253", "", err, sizeof err),
                   -ERANGE);
  assert_non_null(strstr(err, "outside 127.0.0.0/8"));
  m0__fleet_free(&f);
}

static void test_locks(void **state) {
  (void)state;
  char path[PATH_MAX], err[PATH_MAX + 128];
  snprintf(path, sizeof path, "%s/lock", tmp);
  struct m0__lock a = {0}, b = {0};
  long stale = -1;
  assert_int_equal(m0__lock_take(&a, path, "the state folder x", NULL, &stale, err, sizeof err), 0);
  assert_int_equal(stale, 0);
  char text[32] = "";
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  assert_non_null(fgets(text, sizeof text, fp));
  fclose(fp);
  assert_int_equal(strtol(text, NULL, 10), (long)getpid());
  /* A second taker (another open file description, as another process has) is refused,
   * told who holds it. */
  assert_int_equal(m0__lock_take(&b, path, "the state folder x", NULL, &stale, err, sizeof err),
                   -EBUSY);
  char want[64];
  snprintf(want, sizeof want, "the state folder x is in use by m0emu pid %ld", (long)getpid());
  assert_non_null(strstr(err, want));
  assert_null(b.path);
  m0__lock_release(&a);
  assert_int_equal(access(path, F_OK), -1); /* removed at release */
  m0__lock_release(&a);                     /* twice is nothing */
  /* A dead holder's file (no lock on it, a pid inside): taken over, its pid reported. */
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "999999\n", 7), 7);
  close(fd);
  assert_int_equal(m0__lock_take(&b, path, "the tty link y", NULL, &stale, err, sizeof err), 0);
  assert_int_equal(stale, 999999);
  m0__lock_release(&b);
  /* A folder that is not there: an error that says so. */
  snprintf(path, sizeof path, "%s/no/such/lock", tmp);
  assert_int_equal(m0__lock_take(&a, path, "the tty link z", NULL, &stale, err, sizeof err), -ENOENT);
  assert_non_null(strstr(err, "cannot create the lock file"));
}

/* A fleet holds one lock, DIR/fleet.lock, noting its prefix: a single m0emu's probe of
 * a module folder of a live fleet is refused, a folder the fleet does not name is not,
 * and a lock nobody holds is nobody's. */
static void test_fleet_lock_probe(void **state) {
  (void)state;
  char dir[PATH_MAX], path[PATH_MAX + 32], err[PATH_MAX + 128], note[40];
  snprintf(dir, sizeof dir, "%s/probe", tmp);
  assert_int_equal(mkdir(dir, 0755), 0);
  snprintf(path, sizeof path, "%s/fleet.lock", dir);
  assert_int_equal(m0__lock_probe(path, "x", note, sizeof note, err, sizeof err), 0);
  struct m0__lock f = {0};
  long stale;
  assert_int_equal(m0__lock_take(&f, path, "the fleet folder", "dev-", &stale, err, sizeof err),
                   0);
  assert_int_equal(m0__lock_probe(path, "the fleet folder", note, sizeof note, err, sizeof err),
                   -EBUSY);
  assert_string_equal(note, "dev-");
  char want[64];
  snprintf(want, sizeof want, "in use by m0emu pid %ld", (long)getpid());
  assert_non_null(strstr(err, want));
  snprintf(path, sizeof path, "%s/dev-0002", dir);
  assert_int_equal(m0__fleet_probe(path, "the state folder", err, sizeof err), -EBUSY);
  assert_non_null(strstr(err, want));
  snprintf(path, sizeof path, "%s/m0002", dir); /* another prefix: not this fleet's */
  assert_int_equal(m0__fleet_probe(path, "the state folder", err, sizeof err), 0);
  snprintf(path, sizeof path, "%s/dev-2", dir); /* not a module's name */
  assert_int_equal(m0__fleet_probe(path, "the state folder", err, sizeof err), 0);
  m0__lock_release(&f);
  snprintf(path, sizeof path, "%s/dev-0002", dir);
  assert_int_equal(m0__fleet_probe(path, "the state folder", err, sizeof err), 0);
}

static enum m0__cli_result parse(struct m0__proc_opts *o, struct m0__dev_cfg *d, char *err,
                                 size_t cap, ...) {
  char *argv[32] = {"m0emu"};
  int argc = 1;
  va_list ap;
  va_start(ap, cap);
  for (char *a; (a = va_arg(ap, char *)) != NULL;)
    argv[argc++] = a;
  va_end(ap);
  return m0__cli_parse(o, d, argc, argv, err, cap);
}

static void test_cli(void **state) {
  (void)state;
  struct m0__proc_opts o;
  struct m0__dev_cfg d;
  char err[512];
  assert_int_equal(parse(&o, &d, err, sizeof err, "--fleet", "F", "--count", "20", NULL),
                   M0__CLI_RUN);
  assert_string_equal(o.fleet, "F");
  assert_int_equal(o.count, 20);
  assert_string_equal(o.prefix, "m");
  assert_string_equal(d.bind, "127.0.1.1");
  assert_int_equal(parse(&o, &d, err, sizeof err, "--fleet", "F", "--name", "dev-", "--bind",
                         "127.1.0.1", "--no-tty", "--fleet-web", "127.0.0.2:8000", NULL),
                   M0__CLI_RUN);
  assert_string_equal(o.prefix, "dev-");
  assert_string_equal(d.bind, "127.1.0.1");
  assert_true(d.no_tty);
  assert_string_equal(o.fleet_web_addr, "127.0.0.2");
  assert_int_equal(o.fleet_web_port, 8000);
  assert_int_equal(parse(&o, &d, err, sizeof err, "--fleet-web", "9000", NULL), M0__CLI_RUN);
  assert_string_equal(o.fleet_web_addr, "127.0.0.1");
  assert_int_equal(parse(&o, &d, err, sizeof err, "--fleet-web", "[::1]:9000", NULL),
                   M0__CLI_RUN);
  assert_string_equal(o.fleet_web_addr, "::1");
  assert_int_equal(parse(&o, &d, err, sizeof err, "--name", "solo", NULL), M0__CLI_RUN);
  assert_string_equal(d.name, "solo");
  assert_null(o.fleet);
  struct {
    const char *a[5];
    const char *says;
  } bad[] = {
      {{"--count", "3"}, "--count: only with --fleet"},
      {{"--fleet", "F", "--tty", "x"}, "--tty: not with --fleet"},
      {{"--fleet", "F", "--state", "x"}, "--state: not with --fleet"},
      {{"--fleet", "F", "--bind", "::1"}, "a fleet needs an IPv4 address"},
      {{"--fleet", "F", "--count", "0"}, "--count: expected"},
      {{"--name", "a/b"}, "--name: expected"},
      {{"--fleet", "F", "--name", "0123456789012345678901234567890123"}, "at most 32"},
      {{"--fleet-web", "localhost:80"}, "--fleet-web: expected"},
      {{"--fleet-web", "0"}, "--fleet-web: expected"},
      {{"--net", "host", "--peer", "1.2.3.4=127.0.0.1"}, "only with --net loopback"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *const *a = bad[i].a;
    assert_int_equal(parse(&o, &d, err, sizeof err, a[0], a[1], a[2], a[3], a[4]),
                     M0__CLI_USAGE);
    if (strstr(err, bad[i].says) == NULL)
      fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].says);
  }
}

static int setup(void **state) {
  (void)state;
  return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names_addresses_macs),
      cmocka_unit_test(test_peer_map),
      cmocka_unit_test(test_plan),
      cmocka_unit_test(test_locks),
      cmocka_unit_test(test_fleet_lock_probe),
      cmocka_unit_test(test_cli),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
