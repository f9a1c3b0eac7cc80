/* flash.c: the module's flash as a file, <state>/flash.conf (spec §5).
 *
 * Write protocol, so a crash or power cut never leaves a half-written flash.conf:
 * write flash.conf.tmp, fsync it, rename it over flash.conf, fsync the directory.
 * A device's saves run on libuv's thread pool (m0__flash_save_async), so two fsyncs
 * (tens of milliseconds on a slow disk) never stall the loop and its other links, web
 * page and devices; the outcome is reported back on the loop. Only the load (at start)
 * writes synchronously. M0EMU_TEST_FLASH_DELAY_MS (test only: integration scenarios)
 * makes each asynchronous save wait that long first, to show the loop going on.
 * Loading: a missing file means factory settings and nothing is written until the first
 * set (an untouched device leaves no file behind); an unparseable one is renamed to
 * flash.conf.bad (replacing an older .bad) and replaced by factory settings. The factory
 * settings are the built-in defaults or the user's profile (--profile, --set), read here
 * too; a profile never writes flash.conf: flash is what the module saved, the profile
 * what it left the factory with. The text format and every value's validation belong to
 * the core (flash_text.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board.h"

int m0__mkdir_p(const char *dir, unsigned mode) {
  char path[PATH_MAX];
  size_t len = strlen(dir);
  if (len == 0 || len >= sizeof path)
    return -ENAMETOOLONG;
  memcpy(path, dir, len + 1);
  /* Create each missing prefix, left to right; EEXIST for existing parts is fine. */
  for (char *p = path + 1; ; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(path, (mode_t)mode) != 0 && errno != EEXIST)
        return -errno;
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  struct stat st;
  if (stat(dir, &st) != 0)
    return -errno;
  if (!S_ISDIR(st.st_mode))
    return -ENOTDIR;
  return 0;
}

/* Test only (docs/architecture.md): milliseconds each asynchronous save waits first. */
static unsigned test_delay_ms(void) {
  const char *v = getenv("M0EMU_TEST_FLASH_DELAY_MS");
  char *end;
  if (v == NULL || *v == '\0')
    return 0;
  unsigned long ms = strtoul(v, &end, 10);
  return *end == '\0' && ms <= 60000 ? (unsigned)ms : 0;
}

int m0__flash_init(struct m0__flash *fl, const char *dir, struct m0__events *events) {
  static const char *const names[3] = {"flash.conf", "flash.conf.tmp", "flash.conf.bad"};
  size_t len = strlen(dir);
  *fl = (struct m0__flash){.events = events, .test_delay_ms = test_delay_ms()};
  if (len >= PATH_MAX - sizeof "/flash.conf.tmp")
    return -ENAMETOOLONG;
  /* One block: dir, then dir/<name> for each of the three files. */
  char *block = malloc(4 * (len + 1) + sizeof "/flash.conf" + 2 * sizeof "/flash.conf.tmp");
  if (block == NULL)
    return -ENOMEM;
  fl->dir = block;
  memcpy(block, dir, len + 1);
  char **out[3] = {&fl->path, &fl->tmp, &fl->bad};
  char *p = block + len + 1;
  for (int i = 0; i < 3; i++) {
    *out[i] = p;
    p += sprintf(p, "%s/%s", dir, names[i]) + 1;
  }
  return 0;
}

void m0__flash_free(struct m0__flash *fl) {
  free(fl->dir);
  fl->dir = fl->path = fl->tmp = fl->bad = NULL;
}

static void report_line(void *ctx, unsigned line, const char *message) {
  const struct m0__flash *fl = ctx;
  m0__log_at(fl->events, M0__LOG_WARNING, "flash.conf line %u: %s", line, message);
}

/* Read at most cap bytes; a longer file shows as cap bytes, which the parser (bounded by
 * M0_FLASH_MAX < cap) rejects as unparseable. */
static ssize_t read_file(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t got = 0;
  while (got < cap) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int e = -errno;
      close(fd);
      return e;
    }
    if (n == 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  return (ssize_t)got;
}

int m0__flash_load(struct m0__flash *fl, const struct m0_config *factory,
                   struct m0_config *cfg, enum m0__flash_origin *origin) {
  static const size_t cap = M0_FLASH_MAX + 1;
  char buf[M0_FLASH_MAX + 1];
  ssize_t len = read_file(fl->path, buf, cap);
  if (len == -ENOENT) {
    *cfg = *factory;
    *origin = M0__FLASH_FROM_MISSING;
    return 0;
  }
  if (len < 0)
    return (int)len;
  if (m0_flash_parse_over(buf, (size_t)len, factory, cfg, report_line, fl) == M0_FLASH_OK) {
    *origin = M0__FLASH_FROM_FILE;
    return 0;
  }
  /* Not a flash file at all: keep it for the person who wrote it, start from defaults. */
  if (rename(fl->path, fl->bad) != 0)
    return -errno;
  m0__log_at(fl->events, M0__LOG_WARNING,
             "%s is not a flash file (no '%s' header, a NUL byte, or over %d bytes): "
             "moved to %s, using factory defaults",
             fl->path, M0_FLASH_HEADER, M0_FLASH_MAX, fl->bad);
  *cfg = *factory;
  *origin = M0__FLASH_FROM_BAD;
  char text[M0_FLASH_MAX];
  size_t n = m0_flash_format(cfg, text, sizeof text);
  if (n == 0)
    return -ENOBUFS;
  return m0__flash_save(fl, text, n);
}

/* A profile is a person's file, comments included: larger than a flash file may be. */
#define PROFILE_MAX 65536

int m0__profile_build(struct m0_config *out, const char *path, const char *const *sets,
                      size_t nsets, char *err, size_t cap) {
  char reason[M0_PROFILE_REASON_MAX];
  m0_config_defaults(out);
  if (path != NULL) {
    char *buf = malloc(PROFILE_MAX + 1);
    if (buf == NULL) {
      snprintf(err, cap, "--profile %s: out of memory", path);
      return -ENOMEM;
    }
    ssize_t len = read_file(path, buf, PROFILE_MAX + 1);
    if (len < 0) {
      snprintf(err, cap, "--profile %s: cannot read it: %s", path, strerror((int)-len));
      free(buf);
      return (int)len;
    }
    if (len > PROFILE_MAX) {
      snprintf(err, cap, "--profile %s: larger than %d bytes: not a profile", path,
               PROFILE_MAX);
      free(buf);
      return -EFBIG;
    }
    unsigned line = m0_profile_parse(buf, (size_t)len, out, reason, sizeof reason);
    free(buf);
    if (line != 0) {
      snprintf(err, cap, "--profile %s line %u: %s", path, line, reason);
      return -EINVAL;
    }
  }
  for (size_t i = 0; i < nsets; i++) {
    if (m0_profile_set(out, sets[i], strlen(sets[i]), reason, sizeof reason) != 0) {
      snprintf(err, cap, "--set '%s': %s", sets[i], reason);
      return -EINVAL;
    }
  }
  return 0;
}

static int write_all(int fd, const char *text, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, text, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    text += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The write itself: safe on a worker thread (it reads only fl's paths, fixed at init, and
 * logs nothing). *dir_err: errno of a failed directory fsync, reported by the caller. */
static int save(const struct m0__flash *fl, const char *text, size_t len, int *dir_err) {
  *dir_err = 0;
  int fd = open(fl->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  int rc = write_all(fd, text, len);
  if (rc == 0 && fsync(fd) != 0)
    rc = -errno;
  if (close(fd) != 0 && rc == 0)
    rc = -errno;
  if (rc == 0 && rename(fl->tmp, fl->path) != 0)
    rc = -errno;
  if (rc != 0) {
    unlink(fl->tmp);
    return rc;
  }
  /* The rename is durable only once the directory entry is on disk. It has happened
   * already, so a failure here is a warning: the new text is what the file holds. */
  int dfd = open(fl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL)) /* EINVAL: fs cannot sync dirs */
    *dir_err = errno;
  if (dfd >= 0)
    close(dfd);
  return 0;
}

/* The outcome on the loop: the warning, the log line and the event. */
static int report(struct m0__flash *fl, int rc, int dir_err) {
  char fields[2 * PATH_MAX + 160];
  if (dir_err != 0)
    m0__log_at(fl->events, M0__LOG_WARNING, "warning: cannot fsync %s: %s", fl->dir,
               strerror(dir_err));
  size_t n = (size_t)snprintf(fields, sizeof fields, "\"path\":");
  n += m0_json_string(fields + n, sizeof fields - n, fl->path);
  if (rc == 0) {
    m0__events_emit(fl->events, "flash.saved", fields);
    return 0;
  }
  n += (size_t)snprintf(fields + n, sizeof fields - n, ",\"error\":");
  m0_json_string(fields + n, sizeof fields - n, strerror(-rc));
  m0__log_at(fl->events, M0__LOG_ERROR, "cannot save %s: %s", fl->path, strerror(-rc));
  m0__events_emit(fl->events, "flash.error", fields);
  return rc;
}

int m0__flash_save(struct m0__flash *fl, const char *text, size_t len) {
  int dir_err;
  int rc = save(fl, text, len, &dir_err);
  return report(fl, rc, dir_err);
}

/* One save on the thread pool, with its own copy of the text. */
struct flash_job {
  uv_work_t req;
  struct m0__flash *fl;
  m0__flash_done_fn done;
  void *arg;
  int rc, dir_err;
  size_t len;
  char text[];
};

static void job_work(uv_work_t *req) {
  struct flash_job *j = req->data;
  if (j->fl->test_delay_ms > 0)
    uv_sleep(j->fl->test_delay_ms);
  j->rc = save(j->fl, j->text, j->len, &j->dir_err);
}

static void job_done(uv_work_t *req, int status) {
  struct flash_job *j = req->data;
  /* Never cancelled (nothing calls uv_cancel): status is 0. */
  int rc = report(j->fl, status != 0 ? status : j->rc, j->dir_err);
  m0__flash_done_fn done = j->done;
  void *arg = j->arg;
  free(j);
  done(arg, rc);
}

int m0__flash_save_async(struct m0__flash *fl, uv_loop_t *loop, const char *text, size_t len,
                         m0__flash_done_fn done, void *arg) {
  struct flash_job *j = malloc(sizeof *j + len);
  if (j == NULL)
    return report(fl, -ENOMEM, 0);
  memset(j, 0, sizeof *j);
  j->req.data = j;
  j->fl = fl;
  j->done = done;
  j->arg = arg;
  j->len = len;
  memcpy(j->text, text, len);
  int rc = uv_queue_work(loop, &j->req, job_work, job_done);
  if (rc != 0) {
    free(j);
    return report(fl, rc, 0);
  }
  return 0;
}
