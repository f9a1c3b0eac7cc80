/* fleet.c: many modules in one process: their names, addresses, MACs and folders, the
 * locks that keep two processes off one module, and the peer map (fleet.h).
 *
 * Identity follows from the module's number k alone (name <prefix><k>, the k-th loopback
 * address from the base, MAC base + k - 1), so nothing about it has to be stored: an
 * existing fleet folder gives each module back the same identity, and its own flash.conf
 * gives it back its settings. Addresses skip last octets 0 and 255: module 255 of a fleet
 * based at 127.0.1.1 is 127.0.2.1, module 10,000 is 127.0.40.94.
 *
 * Locks are flock(2) on a file (the state folder's "lock", the tty link's "<link>.lock"):
 * the kernel drops a lock when its holder dies, so a stale lock is simply free and is
 * taken over; the pid written inside serves only to name the holder (or the dead one) in
 * the message. A lock file is removed at exit while still held, and a taker checks that
 * the file it locked is still the one at the path, so nobody can hold a removed inode.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "board.h"
#include "fleet.h"

/* ---- the peer map ---- */

static int set_err(char *err, size_t cap, const char *fmt, const char *arg) {
  snprintf(err, cap, fmt, arg);
  return -1;
}

/* "host[:port]" or "[v6]:port": host into host (cap), port (0 if none). */
static int split_host_port(const char *s, char *host, size_t cap, uint16_t *port) {
  const char *colon;
  size_t len;
  *port = 0;
  if (*s == '[') {
    const char *close = strchr(s, ']');
    if (close == NULL)
      return -1;
    len = (size_t)(close - s - 1);
    if (len == 0 || len >= cap)
      return -1;
    memcpy(host, s + 1, len);
    host[len] = '\0';
    colon = close[1] == ':' ? close + 1 : NULL;
    if (colon == NULL && close[1] != '\0')
      return -1;
  } else {
    colon = strrchr(s, ':');
    if (colon != NULL && strchr(s, ':') != colon)
      return -1; /* a bare IPv6 literal: brackets needed */
    len = colon ? (size_t)(colon - s) : strlen(s);
    if (len == 0 || len >= cap)
      return -1;
    memcpy(host, s, len);
    host[len] = '\0';
  }
  if (colon != NULL) {
    const char *p = colon + 1;
    unsigned long v = 0;
    if (*p == '\0' || strlen(p) > 5)
      return -1;
    for (; *p; p++) {
      if (!isdigit((unsigned char)*p))
        return -1;
      v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v == 0 || v > 65535)
      return -1;
    *port = (uint16_t)v;
  }
  return 0;
}

int m0__peer_parse(struct m0__peer_map *map, const char *spec, char *err, size_t cap) {
  const char *eq = strchr(spec, '=');
  char left[128], host[64];
  struct m0__peer p;
  uint16_t to_port;
  memset(&p, 0, sizeof p);
  if (eq == NULL || eq == spec || (size_t)(eq - spec) >= sizeof left)
    return set_err(err, cap, "expected ADDR[:PORT]=HOST[:PORT], got '%s'", spec);
  memcpy(left, spec, (size_t)(eq - spec));
  left[eq - spec] = '\0';
  if (split_host_port(left, p.addr, sizeof p.addr, &p.port) != 0)
    return set_err(err, cap,
                   "expected ADDR[:PORT] before '=' (an address or name of at most 30 "
                   "characters, a port 1-65535), got '%s'",
                   spec);
  if (split_host_port(eq + 1, host, sizeof host, &to_port) != 0 ||
      uv_ip4_addr(host, to_port, &p.to) != 0)
    return set_err(err, cap, "expected HOST[:PORT] after '=' (an IPv4 address), got '%s'",
                   spec);
  if ((ntohl(p.to.sin_addr.s_addr) >> 24) != 127)
    return set_err(err, cap,
                   "HOST must be a loopback address (127.x.y.z): --net loopback never "
                   "dials out, got '%s'",
                   spec);
  for (size_t i = 0; i < map->n; i++)
    if (strcasecmp(map->peers[i].addr, p.addr) == 0 && map->peers[i].port == p.port)
      return set_err(err, cap, "the address is mapped twice: '%s'", spec);
  if (map->n == M0__PEERS_MAX) {
    snprintf(err, cap, "at most %d entries, got '%s' as one more", M0__PEERS_MAX, spec);
    return -1;
  }
  map->peers[map->n++] = p;
  return 0;
}

bool m0__peer_find(const struct m0__peer_map *map, const struct m0_net_addr *a,
                   struct sockaddr_in *out) {
  const struct m0__peer *any = NULL;
  if (map == NULL)
    return false;
  for (size_t i = 0; i < map->n; i++) {
    const struct m0__peer *p = &map->peers[i];
    if (strcasecmp(p->addr, a->host) != 0)
      continue;
    if (p->port == a->port) {
      any = p;
      break;
    }
    if (p->port == 0 && any == NULL)
      any = p;
  }
  if (any == NULL)
    return false;
  *out = any->to;
  if (out->sin_port == 0)
    out->sin_port = htons(a->port);
  return true;
}

/* ---- naming, addresses, MACs ---- */

void m0__fleet_name(char *out, size_t cap, const char *prefix, unsigned k) {
  snprintf(out, cap, "%s%04u", prefix, k);
}

int m0__fleet_addr(uint32_t base, unsigned k, uint32_t *out) {
  uint32_t last = base & 0xFFu;
  if (k == 0 || last == 0 || last == 255)
    return -ERANGE;
  uint64_t index = (uint64_t)(last - 1) + (k - 1);
  uint64_t net24 = (uint64_t)(base >> 8) + index / 254;
  if ((net24 >> 16) != 127)
    return -ERANGE;
  *out = (uint32_t)(net24 << 8 | (1 + index % 254));
  return 0;
}

void m0__fleet_mac(const char base[13], unsigned k, char out[13]) {
  uint64_t v = strtoull(base, NULL, 16);
  v = (v + k - 1) & 0xFFFFFFFFFFFFull;
  snprintf(out, 13, "%012llX", (unsigned long long)v);
}

void m0__fleet_mac_base(const char *real_dir, char out[13]) {
  char derived[13];
  m0__mac_derive(real_dir, derived); /* OUI + 3 hash bytes: keep the first of them */
  snprintf(out, 13, "%.8s0000", derived);
}

/* ---- the plan ---- */

static char *join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + 1 + lb + 1);
  if (s == NULL)
    return NULL;
  memcpy(s, a, la);
  s[la] = '/';
  memcpy(s + la + 1, b, lb + 1);
  return s;
}

/* The number of a module folder's name, 0 when it is not <prefix><digits>. */
static unsigned folder_number(const char *name, const char *prefix) {
  size_t lp = strlen(prefix);
  if (strncmp(name, prefix, lp) != 0 || name[lp] == '\0' || strlen(name + lp) > 6)
    return 0;
  unsigned long v = 0;
  for (const char *p = name + lp; *p; p++) {
    if (!isdigit((unsigned char)*p))
      return 0;
    v = v * 10 + (unsigned long)(*p - '0');
  }
  char canonical[M0__FLEET_PREFIX_MAX + 12];
  m0__fleet_name(canonical, sizeof canonical, prefix, (unsigned)v);
  return v > 0 && v <= M0__FLEET_MAX && strcmp(canonical, name) == 0 ? (unsigned)v : 0;
}

static int cmp_unsigned(const void *a, const void *b) {
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
  return x < y ? -1 : x > y;
}

/* The module numbers DIR already holds, sorted. */
static int existing(const char *dir, const char *prefix, unsigned **out, size_t *n) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return -errno;
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    unsigned k = folder_number(de->d_name, prefix);
    if (k == 0)
      continue;
    char *path = join(dir, de->d_name);
    struct stat st;
    bool is_dir = path != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    free(path);
    if (!is_dir)
      continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      unsigned *grown = realloc(*out, cap * sizeof **out);
      if (grown == NULL) {
        closedir(d);
        return -ENOMEM;
      }
      *out = grown;
    }
    (*out)[(*n)++] = k;
  }
  closedir(d);
  if (*n > 0)
    qsort(*out, *n, sizeof **out, cmp_unsigned);
  return 0;
}

static int plan_fail(char *err, size_t cap, int rc, const char *fmt, const char *arg) {
  int n = snprintf(err, cap, fmt, arg);
  if (n >= 0 && (size_t)n < cap && rc != -EINVAL)
    snprintf(err + n, cap - (size_t)n, ": %s", strerror(-rc));
  return rc;
}

int m0__fleet_plan(struct m0__fleet *f, const char *dir, unsigned count, const char *prefix,
                   const char *base_addr, const char *base_mac, char *err, size_t cap) {
  memset(f, 0, sizeof *f);
  int rc = m0__mkdir_p(dir, 0755);
  if (rc != 0)
    return plan_fail(err, cap, rc, "--fleet: cannot create the folder %s", dir);
  f->dir = realpath(dir, NULL);
  if (f->dir == NULL)
    return plan_fail(err, cap, -errno, "--fleet: cannot resolve %s", dir);
  struct in_addr base;
  if (inet_pton(AF_INET, base_addr, &base) != 1)
    return plan_fail(err, cap, -EINVAL, "--bind: a fleet needs an IPv4 address, got '%s'",
                     base_addr);
  char mac_base[13];
  if (base_mac[0] != '\0')
    snprintf(mac_base, sizeof mac_base, "%s", base_mac);
  else
    m0__fleet_mac_base(f->dir, mac_base);

  unsigned *numbers = NULL;
  size_t n = count;
  if (count == 0) {
    rc = existing(f->dir, prefix, &numbers, &n);
    if (rc != 0)
      return plan_fail(err, cap, rc, "--fleet: cannot list %s", f->dir);
    if (n == 0) {
      free(numbers);
      return plan_fail(err, cap, -EINVAL,
                       "--fleet %s holds no module folders yet: give --count N", f->dir);
    }
  }
  f->members = calloc(n, sizeof *f->members);
  if (f->members == NULL) {
    free(numbers);
    return plan_fail(err, cap, -ENOMEM, "--fleet %s", f->dir);
  }
  for (size_t i = 0; i < n; i++) {
    struct m0__fleet_member *m = &f->members[i];
    m->k = numbers ? numbers[i] : (unsigned)(i + 1);
    f->count = i + 1;
    m0__fleet_name(m->name, sizeof m->name, prefix, m->k);
    uint32_t a;
    if (m0__fleet_addr(ntohl(base.s_addr), m->k, &a) != 0) {
      free(numbers);
      snprintf(err, cap,
               "--bind %s: module %u would be outside 127.0.0.0/8 (or the address ends "
               "in .0 or .255): choose a lower base or fewer modules",
               base_addr, m->k);
      return -ERANGE;
    }
    struct in_addr ia = {.s_addr = htonl(a)};
    inet_ntop(AF_INET, &ia, m->addr, sizeof m->addr);
    m0__fleet_mac(mac_base, m->k, m->mac);
    m->state = join(f->dir, m->name);
    m->tty = m->state ? join(m->state, "tty") : NULL;
    if (m->tty == NULL) {
      free(numbers);
      return plan_fail(err, cap, -ENOMEM, "--fleet %s", f->dir);
    }
  }
  free(numbers);
  return 0;
}

void m0__fleet_free(struct m0__fleet *f) {
  for (size_t i = 0; i < f->count; i++) {
    free(f->members[i].state);
    free(f->members[i].tty);
  }
  free(f->members);
  free(f->dir);
  memset(f, 0, sizeof *f);
}

unsigned long m0__fleet_raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return (unsigned long)rl.rlim_cur;
}

/* ---- locks ---- */

static long read_pid(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  long pid = strtol(buf, NULL, 10);
  return pid > 0 ? pid : 0;
}

int m0__lock_take(struct m0__lock *lk, const char *path, const char *what, const char *note,
                  long *stale_pid, char *err, size_t cap) {
  lk->path = NULL;
  *stale_pid = 0;
  for (int attempt = 0; attempt < 8; attempt++) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
      int rc = -errno;
      snprintf(err, cap, "%s: cannot create the lock file %s: %s", what, path, strerror(-rc));
      return rc;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int rc = -errno;
      long pid = rc == -EWOULDBLOCK ? read_pid(fd) : 0;
      close(fd);
      if (rc != -EWOULDBLOCK) {
        snprintf(err, cap, "%s: cannot lock %s: %s", what, path, strerror(-rc));
        return rc;
      }
      if (pid > 0)
        snprintf(err, cap, "%s is in use by m0emu pid %ld (lock %s)", what, pid, path);
      else
        snprintf(err, cap, "%s is in use by another m0emu (lock %s)", what, path);
      return -EBUSY;
    }
    /* The holder we waited on may have removed the file just before we locked it. */
    struct stat held, now;
    if (fstat(fd, &held) != 0 || stat(path, &now) != 0 || held.st_ino != now.st_ino ||
        held.st_dev != now.st_dev) {
      close(fd);
      continue;
    }
    long old = read_pid(fd);
    if (old > 0 && old != (long)getpid())
      *stale_pid = old;
    char line[M0__FLEET_PREFIX_MAX + 40];
    int len = snprintf(line, sizeof line, "%ld\n%s%s", (long)getpid(), note ? note : "",
                       note ? "\n" : "");
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) {
      int rc = -errno;
      close(fd);
      snprintf(err, cap, "%s: cannot write the lock file %s: %s", what, path, strerror(-rc));
      return rc;
    }
    lk->path = strdup(path);
    if (lk->path == NULL) {
      close(fd);
      snprintf(err, cap, "%s: out of memory", what);
      return -ENOMEM;
    }
    lk->fd = fd;
    return 0;
  }
  snprintf(err, cap, "%s: the lock file %s keeps being replaced", what, path);
  return -EAGAIN;
}

int m0__lock_use(const struct m0__events *ev, struct m0__lock *lk, const char *path,
                 const char *what, const char *note, char *err, size_t cap) {
  long stale = 0;
  int rc = m0__lock_take(lk, path, what, note, &stale, err, cap);
  if (rc == -EACCES || rc == -EROFS || rc == -EPERM) {
    m0__log_at(ev, M0__LOG_WARNING, "warning: %s (running without it)", err);
    err[0] = '\0';
    return 0;
  }
  if (rc == 0 && stale > 0)
    m0__log_at(ev, M0__LOG_INFO, "%s: taking over the lock of pid %ld, which is gone", what,
               stale);
  return rc;
}

int m0__lock_probe(const char *path, const char *what, char *note, size_t note_cap, char *err,
                   size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return 0; /* no lock file: nobody */
  if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
    close(fd); /* free (a dead holder's file), or not a lock we can read */
    return 0;
  }
  char buf[M0__FLEET_PREFIX_MAX + 40];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  long pid = strtol(buf, NULL, 10);
  if (note != NULL && note_cap > 0) {
    const char *nl = strchr(buf, '\n');
    snprintf(note, note_cap, "%s", nl ? nl + 1 : "");
    note[strcspn(note, "\n")] = '\0';
  }
  if (pid > 0)
    snprintf(err, cap, "%s is in use by m0emu pid %ld (lock %s)", what, pid, path);
  else
    snprintf(err, cap, "%s is in use by another m0emu (lock %s)", what, path);
  return -EBUSY;
}

int m0__fleet_probe(const char *folder, const char *what, char *err, size_t cap) {
  const char *slash = strrchr(folder, '/');
  if (slash == NULL || slash[1] == '\0')
    return 0;
  char *lock = malloc((size_t)(slash - folder) + sizeof "/fleet.lock");
  if (lock == NULL)
    return 0;
  sprintf(lock, "%.*s/fleet.lock", (int)(slash - folder), folder);
  char prefix[M0__FLEET_PREFIX_MAX + 8] = "";
  int rc = m0__lock_probe(lock, what, prefix, sizeof prefix, err, cap);
  free(lock);
  /* Held: ours only if the folder is named as that fleet names its modules. */
  if (rc == -EBUSY && folder_number(slash + 1, prefix) == 0)
    rc = 0;
  return rc;
}

int m0__fleet_probe_members(const struct m0__fleet *f, bool no_tty, char *err, size_t cap) {
  for (size_t i = 0; i < f->count; i++) {
    const struct m0__fleet_member *m = &f->members[i];
    char *state_lock = join(m->state, "lock");
    char *tty_lock = join(m->state, "tty.lock");
    char what[PATH_MAX + 32];
    int rc = 0;
    if (state_lock != NULL && tty_lock != NULL) {
      snprintf(what, sizeof what, "the state folder %s", m->state);
      rc = m0__lock_probe(state_lock, what, NULL, 0, err, cap);
      snprintf(what, sizeof what, "the tty link %s", m->tty);
      if (rc == 0 && !no_tty)
        rc = m0__lock_probe(tty_lock, what, NULL, 0, err, cap);
    }
    free(state_lock);
    free(tty_lock);
    if (rc != 0)
      return rc;
  }
  return 0;
}

void m0__lock_release(struct m0__lock *lk) {
  if (lk->path == NULL)
    return;
  unlink(lk->path);
  close(lk->fd);
  free(lk->path);
  lk->path = NULL;
}

/* ---- the map and the banner ---- */

static void web_url(const struct m0__board *b, char *out, size_t cap) {
  uint16_t port = b->web_open ? m0__web_port(&b->web) : 0;
  if (port == 0)
    snprintf(out, cap, "-");
  else
    snprintf(out, cap, "http://%s:%u/", b->cfg.bind, (unsigned)port);
}

int m0__fleet_write_map(struct m0__proc *p) {
  const struct m0__fleet *f = &p->fleet;
  char *path = join(f->dir, "fleet.tsv"), *tmp = join(f->dir, ".fleet.tsv.tmp");
  int rc = 0;
  FILE *out = path && tmp ? fopen(tmp, "we") : NULL;
  if (out == NULL) {
    rc = path && tmp ? -errno : -ENOMEM;
    goto done;
  }
  fputs("name\taddr\tmac\ttty\tweb\n", out);
  for (size_t i = 0; i < p->board_count; i++) {
    const struct m0__board *b = p->boards[i];
    char web[96];
    web_url(b, web, sizeof web);
    fprintf(out, "%s\t%s\t%s\t%s\t%s\n", b->cfg.name, b->cfg.bind, b->options.factory.mac,
            b->cfg.no_tty ? "-" : b->cfg.tty, web);
  }
  if (fflush(out) != 0 || ferror(out))
    rc = -errno;
  if (fclose(out) != 0 && rc == 0)
    rc = -errno;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -errno;
  if (rc != 0)
    unlink(tmp);
done:
  free(path);
  free(tmp);
  return rc;
}

void m0__fleet_banner(struct m0__proc *p, FILE *out) {
  const struct m0__fleet *f = &p->fleet;
  const struct m0__board *first = p->boards[0], *last = p->boards[p->board_count - 1];
  char web[96];
  fprintf(out, "m0emu %s: USR-M0 emulator, a fleet of %zu module%s\n", M0EMU_VERSION,
          p->board_count, p->board_count == 1 ? "" : "s");
  fprintf(out, "  folder:  %s (each module's flash.conf, tty and lock in %s/<name>/)\n",
          f->dir, f->dir);
  fprintf(out, "  first:   %s at %s, MAC %s\n", first->cfg.name, first->cfg.bind,
          first->options.factory.mac);
  if (last != first)
    fprintf(out, "  last:    %s at %s, MAC %s\n", last->cfg.name, last->cfg.bind,
            last->options.factory.mac);
  fprintf(out, "  map:     %s/fleet.tsv (name, address, MAC, tty, web page)\n", f->dir);
  web_url(first, web, sizeof web);
  fprintf(out, "  web:     each module's page on its own address, e.g. %s\n", web);
  if (first->cfg.no_tty)
    fprintf(out, "  tty:     none (--no-tty)\n");
  fprintf(out, "  timing:  %s, dialect %s, boot %u ms, %s\n",
          first->cfg.timing == M0_TIMING_FAST ? "fast" : "real",
          first->cfg.dialect == M0_DIALECT_FIELD ? "field" : "doc",
          (unsigned)first->cfg.boot_ms, first->cfg.net_host ? "--net host" : "--net loopback");
  fflush(out);
}
