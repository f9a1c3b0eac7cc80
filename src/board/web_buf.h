/* web_buf.h: a growable byte string, for the web server's answers and stream records.
 *
 * Builders append without checking each step: on an allocation failure `failed` is set,
 * later appends are ignored, and the builder checks once at the end. The data is always
 * NUL-terminated (once anything was added), so a body can be used as a C string. It
 * starts at 1 KiB and doubles. No libuv here.
 */
#ifndef M0_BOARD_WEB_BUF_H
#define M0_BOARD_WEB_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct m0__web_buf {
  char *data;   /* NULL until the first byte */
  size_t len, cap;
  bool failed;  /* an allocation failed: the content is incomplete */
};

void m0__web_buf_add(struct m0__web_buf *b, const void *data, size_t len);
void m0__web_buf_str(struct m0__web_buf *b, const char *s);
void m0__web_buf_printf(struct m0__web_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s[0..len) as a JSON string, quotes included, through the program's one escaper
 * (m0/json.h) in its bytes reading: every byte outside printable ASCII becomes \u00XX,
 * so any byte string (traffic, or bytes a request echoes) is valid JSON and reads back
 * as the same bytes in Latin-1; the table's values are printable ASCII anyway. */
void m0__web_buf_json(struct m0__web_buf *b, const char *s, size_t len);
/* Free the data; the buffer is empty and usable again. */
void m0__web_buf_free(struct m0__web_buf *b);

#endif
