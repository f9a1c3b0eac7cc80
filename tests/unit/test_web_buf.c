/* test_web_buf.c: the web server's growable byte string (src/board/web_buf.c).
 *
 * Appends of every size keep the content and its NUL; printf past its 256-byte stack
 * buffer; JSON strings through the program's one escaper in its bytes reading (every
 * byte value, a NUL inside included); and allocation failures, injected by wrapping
 * malloc and realloc at link time: the buffer says failed, keeps what it had, ignores
 * later appends and leaks nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_buf.h"

/* ---- allocation failures on demand (-Wl,--wrap=malloc,--wrap=realloc) ---- */

static int fail_after = -1; /* allocations left before one fails; -1 never */

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);

static bool fail_now(void) {
  if (fail_after < 0)
    return false;
  if (fail_after == 0)
    return true;
  fail_after--;
  return false;
}

void *__wrap_malloc(size_t n) {
  return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_realloc(void *p, size_t n) {
  return fail_now() ? NULL : __real_realloc(p, n);
}

static int teardown(void **state) {
  (void)state;
  fail_after = -1;
  return 0;
}

/* ---- appends ---- */

static void test_add_grows_and_terminates(void **state) {
  struct m0__web_buf b = {0};
  static char big[5000];
  (void)state;
  m0__web_buf_add(&b, "x", 0);
  assert_null(b.data); /* nothing added: nothing allocated */
  m0__web_buf_str(&b, "");
  assert_int_equal(b.len, 0);
  m0__web_buf_str(&b, "abc");
  assert_int_equal(b.len, 3);
  assert_string_equal(b.data, "abc");
  assert_int_equal(b.cap, 1024);
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char)('a' + i % 26);
  m0__web_buf_add(&b, big, sizeof big);
  assert_int_equal(b.len, 3 + sizeof big);
  assert_int_equal(b.cap, 8192); /* doubled until it fits, with the NUL */
  assert_memory_equal(b.data + 3, big, sizeof big);
  assert_int_equal(b.data[b.len], '\0');
  m0__web_buf_add(&b, "\0z", 2); /* bytes, not a C string */
  assert_int_equal(b.len, 5 + sizeof big);
  assert_memory_equal(b.data + b.len - 2, "\0z", 2);
  assert_false(b.failed);
  m0__web_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len + b.cap, 0);
  m0__web_buf_str(&b, "again"); /* usable after free */
  assert_string_equal(b.data, "again");
  m0__web_buf_free(&b);
}

static void test_printf_short_and_long(void **state) {
  struct m0__web_buf b = {0};
  char want[1200];
  (void)state;
  m0__web_buf_printf(&b, "HTTP/1.1 %d %s\r\n", 200, "OK");
  assert_string_equal(b.data, "HTTP/1.1 200 OK\r\n");
  /* 255 bytes fit the stack buffer with the NUL; 256 and more take the heap path. */
  for (size_t n = 250; n < 1100; n += 1) {
    struct m0__web_buf c = {0};
    memset(want, 'q', n);
    want[n] = '\0';
    m0__web_buf_printf(&c, "<%s>", want);
    assert_int_equal(c.len, n + 2);
    assert_int_equal(c.data[0], '<');
    assert_memory_equal(c.data + 1, want, n);
    assert_int_equal(c.data[n + 1], '>');
    m0__web_buf_free(&c);
  }
  m0__web_buf_free(&b);
}

/* ---- JSON strings ---- */

static void json_is(const char *s, size_t len, const char *want) {
  struct m0__web_buf b = {0};
  m0__web_buf_json(&b, s, len);
  assert_false(b.failed);
  assert_string_equal(b.data, want);
  m0__web_buf_free(&b);
}

static void test_json(void **state) {
  (void)state;
  json_is("", 0, "\"\"");
  json_is("USR-M0", 6, "\"USR-M0\"");
  json_is("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"");
  json_is("\n\r\t\b\f", 5, "\"\\n\\r\\t\\u0008\\u000c\"");
  json_is("a\0b", 3, "\"a\\u0000b\"");
  /* DEL and every byte above: one \u00XX each (bytes, not UTF-8 text). */
  json_is("\x7f\x80\xc3\xa9\xff", 5, "\"\\u007f\\u0080\\u00c3\\u00a9\\u00ff\"");
  /* Every byte value: printable ASCII stands for itself, the rest is escaped, and the
   * result is ASCII. */
  char all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (char)i;
  struct m0__web_buf b = {0};
  m0__web_buf_json(&b, all, sizeof all);
  size_t escaped = 0, plain = 0;
  for (size_t i = 1; i + 1 < b.len; i++) {
    unsigned char c = (unsigned char)b.data[i];
    assert_true(c >= 0x20 && c < 0x7f);
    if (c == '\\') {
      escaped++;
      i += b.data[i + 1] == 'u' ? 5 : 1;
    } else {
      plain++;
    }
  }
  assert_int_equal(plain, 95 - 2);        /* printable ASCII but " and \ */
  assert_int_equal(escaped, 256 - 93);
  m0__web_buf_free(&b);
}

/* ---- allocation failures ---- */

static void test_failed_keeps_what_it_had(void **state) {
  struct m0__web_buf b = {0};
  static char big[3000];
  (void)state;
  memset(big, 'x', sizeof big);
  m0__web_buf_str(&b, "kept");
  fail_after = 0; /* the growth fails */
  m0__web_buf_add(&b, big, sizeof big);
  fail_after = -1;
  assert_true(b.failed);
  assert_int_equal(b.len, 4);
  assert_string_equal(b.data, "kept");
  m0__web_buf_str(&b, "ignored"); /* memory is back, but the content has a hole */
  m0__web_buf_json(&b, "j", 1);
  m0__web_buf_printf(&b, "%d", 1);
  assert_int_equal(b.len, 4);
  m0__web_buf_free(&b); /* no leak: ASan's LSan says so */
  assert_false(b.failed);

  fail_after = 0; /* the very first allocation */
  m0__web_buf_str(&b, "x");
  fail_after = -1;
  assert_true(b.failed);
  assert_null(b.data);
  m0__web_buf_free(&b);

  /* printf's long path: its own heap buffer fails, then the append's. */
  memset(big, 'y', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  fail_after = 0;
  m0__web_buf_printf(&b, "%s", big);
  fail_after = -1;
  assert_true(b.failed);
  assert_int_equal(b.len, 0);
  m0__web_buf_free(&b);
  fail_after = 1;
  m0__web_buf_printf(&b, "%s", big);
  fail_after = -1;
  assert_true(b.failed);
  assert_int_equal(b.len, 0);
  m0__web_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_add_grows_and_terminates, teardown),
      cmocka_unit_test_teardown(test_printf_short_and_long, teardown),
      cmocka_unit_test_teardown(test_json, teardown),
      cmocka_unit_test_teardown(test_failed_keeps_what_it_had, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
