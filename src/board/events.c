/* events.c: the JSON-lines event stream (--events) and the -v log.
 *
 * One object per line, {"t_ms":<ms since process start>,"ev":"<name>",<fields>}, written
 * with one fputs and flushed at once: tests tail the file and must never see half a line
 * or wait for a buffer. The file is truncated at start so a stream is one process's run.
 * Fields come from the core already as a JSON object body; the board only frames them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "board.h"

/* A line: the frame (~60 bytes) around the longest fields the core or board sends
 * (a path, an error string). Longer lines are cut only at the fields, never mid-frame. */
#define EVENT_LINE_MAX (PATH_MAX + 512)

int m0__events_open(struct m0__events *ev, const char *path, uint64_t start_ns,
                    int verbosity) {
  *ev = (struct m0__events){.start_ns = start_ns, .verbosity = verbosity};
  if (path == NULL)
    return 0;
  if (strcmp(path, "-") == 0) {
    ev->out = stdout;
    return 0;
  }
  ev->out = fopen(path, "we");
  if (ev->out == NULL)
    return -errno;
  ev->own = true;
  return 0;
}

void m0__events_emit(struct m0__events *ev, const char *name, const char *fields) {
  if (ev->verbosity > 0)
    fprintf(stderr, "m0emu: event %s%s%s\n", name, fields && *fields ? " " : "",
            fields ? fields : "");
  if (ev->out == NULL && ev->tap == NULL)
    return;
  char line[EVENT_LINE_MAX];
  char jname[128];
  m0__json_string(jname, sizeof jname, name);
  unsigned long long t_ms = (uv_hrtime() - ev->start_ns) / M0_NS_PER_MS;
  int n = snprintf(line, sizeof line, "{\"t_ms\":%llu,\"ev\":%s%s%s}\n", t_ms, jname,
                   fields && *fields ? "," : "", fields ? fields : "");
  if (n < 0 || (size_t)n >= sizeof line) {
    /* Never write a broken object: say that the event was too long instead. */
    snprintf(line, sizeof line, "{\"t_ms\":%llu,\"ev\":%s,\"truncated\":true}\n", t_ms,
             jname);
  }
  if (ev->out != NULL) {
    fputs(line, ev->out);
    fflush(ev->out);
  }
  if (ev->tap != NULL) {
    line[strlen(line) - 1] = '\0'; /* the tap gets the object without the newline */
    ev->tap(ev->tap_ctx, line);
  }
}

void m0__events_close(struct m0__events *ev) {
  if (ev->out != NULL) {
    if (ev->own)
      fclose(ev->out);
    else
      fflush(ev->out);
  }
  ev->out = NULL;
}

size_t m0__json_string(char *buf, size_t cap, const char *s) {
  /* Room kept for the longest escape (6 bytes), the closing quote and the NUL. */
  size_t n = 0;
  if (cap < 3) {
    if (cap > 0)
      buf[0] = '\0';
    return 0;
  }
  buf[n++] = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p && n + 8 < cap; p++) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      buf[n++] = '\\';
      buf[n++] = (char)c;
    } else if (c == '\n') {
      buf[n++] = '\\';
      buf[n++] = 'n';
    } else if (c == '\r') {
      buf[n++] = '\\';
      buf[n++] = 'r';
    } else if (c == '\t') {
      buf[n++] = '\\';
      buf[n++] = 't';
    } else if (c < 0x20 || c == 0x7f) {
      n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
    } else {
      buf[n++] = (char)c; /* UTF-8 passes through; paths are bytes, JSON readers cope */
    }
  }
  buf[n++] = '"';
  buf[n] = '\0';
  return n;
}

void m0__log(const struct m0__events *ev, const char *fmt, ...) {
  if (ev->verbosity <= 0)
    return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "m0emu: %s\n", msg);
}
