/* web_buf.c: the web server's growable byte string (web_buf.h).
 *
 * printf formats into 256 bytes on the stack first, since headers and JSON fragments are
 * short; only a longer result costs a second formatting into the heap. JSON strings are
 * copied in plain runs between escapes: most values have none.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m0/json.h"
#include "web_buf.h"

#define FIRST_CAP 1024

void m0__web_buf_add(struct m0__web_buf *b, const void *data, size_t len) {
  if (b->failed || len == 0)
    return;
  if (len > SIZE_MAX / 2 - b->len) {
    b->failed = true;
    return;
  }
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : FIRST_CAP;
    while (cap < b->len + len + 1)
      cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
      b->failed = true;
      return;
    }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void m0__web_buf_str(struct m0__web_buf *b, const char *s) {
  m0__web_buf_add(b, s, strlen(s));
}

void m0__web_buf_printf(struct m0__web_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    m0__web_buf_add(b, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (big == NULL) {
    b->failed = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  m0__web_buf_add(b, big, (size_t)n);
  free(big);
}

void m0__web_buf_json(struct m0__web_buf *b, const char *s, size_t len) {
  m0__web_buf_add(b, "\"", 1);
  size_t run = 0;
  for (size_t i = 0; i < len; i++) {
    char esc[M0_JSON_ESCAPE_MAX];
    size_t n = m0_json_escape_byte((unsigned char)s[i], true, esc);
    if (n == 0)
      continue;
    m0__web_buf_add(b, s + run, i - run);
    m0__web_buf_add(b, esc, n);
    run = i + 1;
  }
  m0__web_buf_add(b, s + run, len - run);
  m0__web_buf_add(b, "\"", 1);
}

void m0__web_buf_free(struct m0__web_buf *b) {
  free(b->data);
  *b = (struct m0__web_buf){0};
}
