/* control_jbuf.c: the control channel's growable text buffer (struct m0__jbuf,
 * control.h), in which answers and status are built.
 *
 * Doubling from 256 bytes, so a status of a few KiB costs a handful of reallocs. After an
 * allocation failure the buffer stays as it was and says `failed`, and every later add
 * is a no-op: a builder writes on without checking each call, and its caller turns a
 * failed buffer into one "internal" answer. Strings are JSON-escaped through the core's
 * escaper (m0/json.h): as text (UTF-8 passes) or as bytes (\u00XX above 0x7e).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

void m0__jb_free(struct m0__jbuf *b) {
  free(b->s);
  *b = (struct m0__jbuf){0};
}

static bool jb_room(struct m0__jbuf *b, size_t n) {
  if (b->failed)
    return false;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->s, cap);
    if (p == NULL) {
      b->failed = true;
      return false;
    }
    b->s = p;
    b->cap = cap;
  }
  return true;
}

void m0__jb_add(struct m0__jbuf *b, const char *s, size_t n) {
  if (!jb_room(b, n))
    return;
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void m0__jb_printf(struct m0__jbuf *b, const char *fmt, ...) {
  va_list ap;
  char small[256];
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof small) {
    m0__jb_add(b, small, (size_t)n);
    return;
  }
  if (!jb_room(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static void jb_escaped(struct m0__jbuf *b, const uint8_t *data, size_t len, bool bytes) {
  if (!jb_room(b, len * M0_JSON_ESCAPE_MAX + 2))
    return;
  b->s[b->len++] = '"';
  for (size_t i = 0; i < len; i++) {
    char esc[M0_JSON_ESCAPE_MAX];
    size_t n = m0_json_escape_byte(data[i], bytes, esc);
    if (n == 0) {
      b->s[b->len++] = (char)data[i];
    } else {
      memcpy(b->s + b->len, esc, n);
      b->len += n;
    }
  }
  b->s[b->len++] = '"';
  b->s[b->len] = '\0';
}

void m0__jb_str(struct m0__jbuf *b, const char *s) {
  jb_escaped(b, (const uint8_t *)s, strlen(s), false);
}

void m0__jb_bytes(struct m0__jbuf *b, const uint8_t *data, size_t len) {
  jb_escaped(b, data, len, true);
}

void m0__jb_hex(struct m0__jbuf *b, const uint8_t *data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  if (!jb_room(b, 2 * len + 2))
    return;
  b->s[b->len++] = '"';
  for (size_t i = 0; i < len; i++) {
    b->s[b->len++] = digits[data[i] >> 4];
    b->s[b->len++] = digits[data[i] & 15];
  }
  b->s[b->len++] = '"';
  b->s[b->len] = '\0';
}
