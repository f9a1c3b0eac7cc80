/* events.c: the JSON-lines event stream (--events) and the program's one log.
 *
 * One sink per process: the stream, stderr, the clock and the log level. Each device
 * writes through a light handle (struct m0__events) that adds its name, so a fleet's
 * lines interleave whole on one clock, and a single unnamed device writes exactly what
 * it always did. One object per line, {"t_ms":<ms since process start>,"ev":"<name>"
 * [,"dev":"<device>"],<fields>}, written with one fputs and flushed at once: tests tail
 * the file and must never see half a line or wait for a buffer. The file is truncated at
 * start so a stream is one process's run. Fields come from the core already as a JSON
 * object body; the board only frames them. Log lines are formatted whole and written
 * with one fputs too, so lines of the process and of its devices never mix.
 * The -v trace does not repeat itself forever: the same line (a reconnect refused every
 * second) is written 3 times per minute at most, then counted and summarised.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "board.h"

/* A line: the frame (~60 bytes, plus a device name) around the longest fields the core
 * or board sends (a path, an error string). Longer lines are cut only at the fields,
 * never mid-frame. */
#define EVENT_LINE_MAX (PATH_MAX + 512)
/* A log line: room for two paths (flash.conf and its .bad) and the words around them. */
#define LOG_LINE_MAX (2 * PATH_MAX + 512)
/* A device name as a JSON string: every byte escaped as \u00XX at worst, quotes, NUL. */
#define NAME_JSON_MAX (6 * M0__DEV_NAME_MAX + 3)

static void summarise(struct m0__sink *s, struct m0__log_repeat *r);

int m0__sink_open(struct m0__sink *s, const char *path, uint64_t start_ns, int verbosity) {
  *s = (struct m0__sink){
      .err = stderr, .clock = uv_hrtime, .start_ns = start_ns, .verbosity = verbosity};
  if (path == NULL)
    return 0;
  if (strcmp(path, "-") == 0) {
    s->out = stdout;
    return 0;
  }
  s->out = fopen(path, "we");
  if (s->out == NULL)
    return -errno;
  s->own = true;
  return 0;
}

void m0__sink_close(struct m0__sink *s) {
  if (s->err != NULL)
    for (size_t i = 0; i < M0__LOG_REPEATS; i++)
      if (s->repeats[i].hash != 0)
        summarise(s, &s->repeats[i]);
  if (s->out != NULL) {
    if (s->own)
      fclose(s->out);
    else
      fflush(s->out);
  }
  s->out = NULL;
}

uint64_t m0__sink_ms(const struct m0__sink *s) {
  return (s->clock() - s->start_ns) / M0_NS_PER_MS;
}

int m0__events_attach(struct m0__events *ev, struct m0__sink *sink, const char *name) {
  *ev = (struct m0__events){.sink = sink};
  if (strlen(name) > M0__DEV_NAME_MAX)
    return -ENAMETOOLONG;
  strcpy(ev->name, name);
  return 0;
}

/* The board's own events: the fields as printf makes them. 768 bytes hold the longest
 * (a net error with two addresses and its message); a longer body would be cut inside
 * a value, so it is replaced by "truncated":true, as the frame does for a long line. */
void m0__events_emitf(struct m0__events *ev, const char *name, const char *fmt, ...) {
  char fields[768];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(fields, sizeof fields, fmt, ap);
  va_end(ap);
  m0__events_emit(ev, name, n >= 0 && (size_t)n < sizeof fields ? fields : "\"truncated\":true");
}

void m0__events_emit(struct m0__events *ev, const char *name, const char *fields) {
  struct m0__sink *s = ev->sink;
  bool has_fields = fields != NULL && *fields != '\0';
  m0__log(ev, "event %s%s%s", name, has_fields ? " " : "", has_fields ? fields : "");
  if (s->out == NULL && ev->tap == NULL && s->tap == NULL)
    return;
  char line[EVENT_LINE_MAX];
  char jname[128];
  char dev[NAME_JSON_MAX + sizeof ",\"dev\":"] = "";
  m0_json_string(jname, sizeof jname, name);
  if (ev->name[0] != '\0') {
    size_t n = (size_t)snprintf(dev, sizeof dev, ",\"dev\":");
    m0_json_string(dev + n, sizeof dev - n, ev->name);
  }
  unsigned long long t_ms = m0__sink_ms(s);
  int n = snprintf(line, sizeof line, "{\"t_ms\":%llu,\"ev\":%s%s%s%s}\n", t_ms, jname, dev,
                   has_fields ? "," : "", has_fields ? fields : "");
  if (n < 0 || (size_t)n >= sizeof line) {
    /* Never write a broken object: say that the event was too long instead. */
    snprintf(line, sizeof line, "{\"t_ms\":%llu,\"ev\":%s%s,\"truncated\":true}\n", t_ms,
             jname, dev);
  }
  if (s->out != NULL) {
    fputs(line, s->out);
    fflush(s->out);
  }
  line[strlen(line) - 1] = '\0'; /* the taps get the object without the newline */
  if (ev->tap != NULL)
    ev->tap(ev->tap_ctx, line);
  if (s->tap != NULL)
    s->tap(s->tap_ctx, line);
}


/* ---- the -v trace: lines that repeat forever ---- */

static uint64_t line_hash(const char *line) {
  uint64_t h = 14695981039346656037ull; /* FNV-1a, 64 bits */
  for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
    h ^= *p;
    h *= 1099511628211ull;
  }
  return h | 1; /* never 0: 0 marks a free slot */
}

static void write_line(FILE *err, const char *line) {
  fputs(line, err);
  fflush(err);
}

/* A slot whose window held lines back says how many, so nothing vanishes silently. */
static void summarise(struct m0__sink *s, struct m0__log_repeat *r) {
  char line[sizeof r->text + 96];
  if (r->skipped == 0)
    return;
  snprintf(line, sizeof line, "%s ... (%lu more like it, not shown)\n", r->text, r->skipped);
  write_line(s->err, line);
  r->skipped = 0;
}

/* Whether the trace line (without its newline) is written now. At most M0__LOG_BURST of
 * the same line per window; the first one after the window carries, in suffix, how many
 * were held back. The 16 slots hold the lines seen most recently: a reconnect's cycle of
 * three or four lines fits, and a line evicted is summarised first. */
static bool repeat_allows(struct m0__sink *s, const char *line, char *suffix, size_t cap) {
  uint64_t now = s->clock(), hash = line_hash(line);
  struct m0__log_repeat *r = NULL, *oldest = &s->repeats[0];
  suffix[0] = '\0';
  for (size_t i = 0; i < M0__LOG_REPEATS && r == NULL; i++) {
    struct m0__log_repeat *c = &s->repeats[i];
    if (c->hash == hash)
      r = c;
    else if (c->hash == 0 || (oldest->hash != 0 && c->used_ns < oldest->used_ns))
      oldest = c;
  }
  if (r == NULL) {
    r = oldest;
    if (r->hash != 0)
      summarise(s, r);
    *r = (struct m0__log_repeat){.hash = hash, .window_ns = now};
    snprintf(r->text, sizeof r->text, "%s", line);
  }
  r->used_ns = now;
  if (now - r->window_ns >= M0__LOG_WINDOW_NS) {
    if (r->skipped > 0)
      snprintf(suffix, cap, " (%lu more like it in the last %llu s, not shown)", r->skipped,
               (unsigned long long)((now - r->window_ns) / M0_NS_PER_S));
    r->window_ns = now;
    r->written = 0;
    r->skipped = 0;
  }
  if (r->written < M0__LOG_BURST) {
    r->written++;
    return true;
  }
  r->skipped++;
  return false;
}

static void log_v(const struct m0__events *ev, enum m0__log_level level, const char *fmt,
                  va_list ap) {
  const struct m0__sink *s = ev != NULL ? ev->sink : NULL;
  int verbosity = s != NULL ? s->verbosity : 0;
  /* -q silences info, not what went wrong; -v adds the trace. */
  if ((level == M0__LOG_INFO && verbosity < 0) || (level == M0__LOG_DEBUG && verbosity <= 0))
    return;
  char line[LOG_LINE_MAX];
  int n;
  if (ev != NULL && ev->name[0] != '\0')
    n = snprintf(line, sizeof line, "m0emu[%s]: ", ev->name);
  else
    n = snprintf(line, sizeof line, "m0emu: ");
  if (n < 0 || (size_t)n >= sizeof line)
    n = 0;
  vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  /* A message too long for the line is cut, but the line still ends. */
  size_t len = strlen(line);
  char suffix[96] = "";
  if (level == M0__LOG_DEBUG && s != NULL &&
      !repeat_allows(ev->sink, line, suffix, sizeof suffix))
    return;
  size_t extra = strlen(suffix);
  if (len + extra > sizeof line - 2)
    len = sizeof line - 2 - extra;
  memcpy(line + len, suffix, extra);
  len += extra;
  line[len] = '\n';
  line[len + 1] = '\0';
  write_line(s != NULL ? s->err : stderr, line);
}

void m0__log_at(const struct m0__events *ev, enum m0__log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_v(ev, level, fmt, ap);
  va_end(ap);
}

void m0__log(const struct m0__events *ev, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_v(ev, M0__LOG_DEBUG, fmt, ap);
  va_end(ap);
}
