/* test_json.c: the program's JSON (include/m0/json.h). The one string escaper, from RFC
 * 8259 §7: a string is quoted; quotation mark, reverse solidus and the control characters
 * U+0000 to U+001F must be escaped; anything else may stand for itself. The one reader
 * (json_read.c): what it accepts and decodes, every refusal and where it says it is (the
 * web page shows these messages), a form's strings-only check, the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "m0/json.h"

static void test_plain_text_is_quoted_only(void **state) {
  (void)state;
  char buf[64];
  assert_int_equal(m0_json_string(buf, sizeof buf, "AT+VER ok"), 11);
  assert_string_equal(buf, "\"AT+VER ok\"");
  assert_int_equal(m0_json_string(buf, sizeof buf, ""), 2);
  assert_string_equal(buf, "\"\"");
}

static void test_required_escapes(void **state) {
  (void)state;
  char buf[64];
  m0_json_string(buf, sizeof buf, "a\"b\\c\n\r\t\x01\x1f\x7f");
  assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\\u007f\"");
}

static void test_text_keeps_utf8(void **state) {
  (void)state;
  char buf[64];
  m0_json_string(buf, sizeof buf, "caf\xc3\xa9");
  assert_string_equal(buf, "\"caf\xc3\xa9\"");
}

static void test_bytes_reading_escapes_high_bytes(void **state) {
  (void)state;
  char out[M0_JSON_ESCAPE_MAX];
  assert_int_equal(m0_json_escape_byte(0xc3, true, out), 6);
  assert_memory_equal(out, "\\u00c3", 6);
  assert_int_equal(m0_json_escape_byte(0xff, true, out), 6);
  assert_memory_equal(out, "\\u00ff", 6);
  assert_int_equal(m0_json_escape_byte(0xc3, false, out), 0);
  assert_int_equal(m0_json_escape_byte('A', true, out), 0);
  assert_int_equal(m0_json_escape_byte(0x00, false, out), 6);
  assert_memory_equal(out, "\\u0000", 6);
  assert_int_equal(m0_json_escape_byte('"', true, out), 2);
  assert_memory_equal(out, "\\\"", 2);
}

/* Cut at a whole escape: the result is still one valid JSON string. */
static void test_truncation_never_splits_an_escape(void **state) {
  (void)state;
  char buf[9];
  size_t n = m0_json_string(buf, sizeof buf, "ab\x01zzzz");
  /* "ab then \u0001 does not fit before the quote and NUL: "ab" */
  assert_string_equal(buf, "\"ab\"");
  assert_int_equal(n, 4);
  n = m0_json_string(buf, sizeof buf, "abcdefghijkl");
  assert_int_equal(n, 8);
  assert_string_equal(buf, "\"abcdef\"");
}

static void test_tiny_buffers(void **state) {
  (void)state;
  char buf[3] = {'x', 'x', 'x'};
  assert_int_equal(m0_json_string(buf, 2, "a"), 0);
  assert_int_equal(buf[0], '\0');
  assert_int_equal(m0_json_string(buf, 3, "a"), 2);
  assert_string_equal(buf, "\"\"");
  assert_int_equal(m0_json_string(buf, 0, "a"), 0);
}


/* ---- the reader (json_read.c) ---- */

static struct m0_json_member M[16];
static char SCRATCH[1024];
static char ERR[128];

static int rd(const char *s) {
  return m0_json_object(s, strlen(s), M, 16, SCRATCH, sizeof SCRATCH, ERR, sizeof ERR);
}

static void test_read_members_and_types(void **state) {
  (void)state;
  int n = rd(" {\"id\": 7, \"cmd\":\"status\", \"on\":true, \"off\":false, \"x\":null,"
             " \"o\":{\"a\":[1,2,{\"b\":\"c\"}]}, \"arr\":[], \"f\":-0.5e-3} ");
  assert_int_equal(n, 8);
  assert_string_equal(M[0].key, "id");
  assert_int_equal(M[0].type, M0_JSON_NUMBER);
  assert_int_equal(M[0].raw_len, 1);
  assert_int_equal(M[1].type, M0_JSON_STRING);
  assert_string_equal(M[1].str, "status");
  assert_int_equal(M[2].type, M0_JSON_TRUE);
  assert_int_equal(M[3].type, M0_JSON_FALSE);
  assert_int_equal(M[4].type, M0_JSON_NULL);
  assert_int_equal(M[5].type, M0_JSON_OBJECT);
  assert_int_equal(M[5].raw_len, strlen("{\"a\":[1,2,{\"b\":\"c\"}]}"));
  assert_memory_equal(M[5].raw, "{\"a\":[1,2,{\"b\":\"c\"}]}", M[5].raw_len);
  assert_int_equal(M[6].type, M0_JSON_ARRAY);
  assert_ptr_equal(m0_json_find(M, (unsigned)n, "cmd"), &M[1]);
  assert_null(m0_json_find(M, (unsigned)n, "dev"));
  assert_int_equal(rd("{}"), 0);
}

static void test_read_decodes_escapes(void **state) {
  (void)state;
  assert_int_equal(rd("{\"t\":\"a\\r\\n\\u0000\\u00e9\\ud83d\\ude00\\/\"}"), 1);
  assert_int_equal(M[0].str_len, 1 + 2 + 1 + 2 + 4 + 1);
  assert_memory_equal(M[0].str, "a\r\n\0\xc3\xa9\xf0\x9f\x98\x80/", M[0].str_len);
}

static void test_read_refuses_what_json_does_not_allow(void **state) {
  (void)state;
  static const char *const bad[] = {
      "", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}",
      "{\"a\":.5}", "{\"a\":tru}", "{\"a\":\"x\ny\"}", "{\"a\":\"\\x\"}", "{\"a\":1} x",
      "{\"a\":1,\"a\":2}", "{'a':1}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
      "{\"a\":[1,]}", "{\"a\":{\"b\"}}", "{\"a\":NaN}", "{\"a\":\"unterminated}",
  };
  size_t i;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (rd(bad[i]) != -1)
      fail_msg("accepted: %s", bad[i]);
    assert_true(strncmp(ERR, "at byte ", 8) == 0);
  }
  assert_int_equal(rd("{\"a\":1,\"a\":2}"), -1);
  assert_string_equal(ERR, "at byte 7: duplicate member \"a\"");
}

/* Each refusal names what is wrong and where (the web page shows these messages). */
static void test_read_refusals_say_where(void **state) {
  (void)state;
  static const struct {
    const char *body, *error;
  } bad[] = {
      {"", "at byte 0: expected a JSON object"},
      {"  [", "at byte 2: expected a JSON object"},
      {"{a:\"b\"}", "at byte 1: expected a member name in double quotes"},
      {"{\"a\" \"b\"}", "at byte 5: expected ':' after a member name"},
      {"{\"a\":\"b\" \"c\"}", "at byte 9: expected ',' or '}'"},
      {"{\"a\":\"b\",}", "at byte 9: expected a member name in double quotes"},
      {"{\"a\":\"b\"} x", "at byte 10: unexpected data after the object"},
      {"{\"a\":\"b\"}{}", "at byte 9: unexpected data after the object"},
      {"{\"a\":\"b", "at byte 7: unterminated string"},
      {"{\"a\":\"b\\", "at byte 7: unterminated string"},
      {"{\"a\":\"\x01\"}", "at byte 6: control character in a string"},
      {"{\"a\":\"\\x\"}", "at byte 7: bad escape in a string"},
      {"{\"a\":\"\\u12\"}", "at byte 6: bad \\u escape"},
      {"{\"a\":\"\\u12", "at byte 6: bad \\u escape"},
      {"{\"a\":\"\\ud800\"}", "at byte 12: unpaired surrogate"},
      {"{\"a\":\"\\udc00\"}", "at byte 12: unpaired surrogate"},
      {"{\"a\":\"\\ud800\\u0041\"}", "at byte 12: unpaired surrogate"},
      {"{", "at byte 1: expected a member name in double quotes"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (rd(bad[i].body) != -1)
      fail_msg("accepted: %s", bad[i].body);
    if (strncmp(ERR, bad[i].error, strlen(bad[i].error)) != 0)
      fail_msg("%s: %s (want %s)", bad[i].body, ERR, bad[i].error);
  }
  /* Bytes, not a C string: a NUL after the object is refused where it is. */
  assert_int_equal(m0_json_object("{\"a\":\"b\"}\0", 10, M, 16, SCRATCH, sizeof SCRATCH, ERR,
                                  sizeof ERR),
                   -1);
  assert_string_equal(ERR, "at byte 9: unexpected data after the object");
  /* The message is cut to the room given, never overrun. */
  char small[12];
  assert_int_equal(m0_json_object("x", 1, M, 16, SCRATCH, sizeof SCRATCH, small, sizeof small),
                   -1);
  assert_int_equal(strlen(small), sizeof small - 1);
}

/* A form: every value a string, else the first that is not is named, where it starts. */
static void test_all_strings(void **state) {
  (void)state;
  static const struct {
    const char *body, *error;
  } bad[] = {
      {"{\"a\":1}", "at byte 5: the value of \"a\" must be a string, not a number"},
      {"{\"a\":true}", "at byte 5: the value of \"a\" must be a string, not a boolean"},
      {"{\"a\":false}", "at byte 5: the value of \"a\" must be a string, not a boolean"},
      {"{\"a\":null}", "at byte 5: the value of \"a\" must be a string, not null"},
      {"{\"a\":{}}", "at byte 5: the value of \"a\" must be a string, not an object"},
      {"{\"k\":\"v\", \"a\" : [\"x\"]}",
       "at byte 16: the value of \"a\" must be a string, not an array"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int n = rd(bad[i].body);
    assert_true(n > 0);
    assert_int_equal(m0_json_all_strings(bad[i].body, M, (unsigned)n, ERR, sizeof ERR), -1);
    assert_string_equal(ERR, bad[i].error);
  }
  const char *form = " {\"UART\" : \"9600,8,1,NONE,NFC\",\r\n\t\"MID\":\"\"} ";
  int n = rd(form);
  assert_int_equal(n, 2);
  assert_int_equal(m0_json_all_strings(form, M, (unsigned)n, ERR, sizeof ERR), 0);
  assert_string_equal(M[0].str, "9600,8,1,NONE,NFC");
  assert_int_equal(M[1].str_len, 0);
  assert_int_equal(m0_json_all_strings("{}", M, 0, ERR, sizeof ERR), 0);
  /* A key as long as the input may be decodes whole, so it is named as sent. */
  char body[240], key[101];
  memset(key, 'K', 100);
  key[100] = '\0';
  snprintf(body, sizeof body, "{\"%s\":\"v\",\"%s\":\"w\"}", key, key);
  assert_int_equal(rd(body), -1); /* and two of them are duplicates */
  assert_non_null(strstr(ERR, "duplicate member"));
}

static void test_read_depth_is_bounded(void **state) {
  (void)state;
  char deep[200];
  size_t i, n = 0;
  n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"a\":");
  for (i = 0; i < 40; i++)
    deep[n++] = '[';
  for (i = 0; i < 40; i++)
    deep[n++] = ']';
  deep[n++] = '}';
  deep[n] = '\0';
  assert_int_equal(rd(deep), -1);
  assert_non_null(strstr(ERR, "nested too deeply"));
}

static void test_read_member_limit(void **state) {
  (void)state;
  assert_int_equal(m0_json_object("{\"a\":1,\"b\":2}", 13, M, 1, SCRATCH, sizeof SCRATCH, ERR,
                                  sizeof ERR),
                   -1);
  assert_string_equal(ERR, "at byte 7: too many members (at most 1)");
}

static uint64_t fixed(const char *num, unsigned digits, int *rc) {
  char line[64];
  uint64_t v = 12345;
  snprintf(line, sizeof line, "{\"n\":%s}", num);
  assert_int_equal(rd(line), 1);
  *rc = m0_json_fixed(&M[0], digits, &v);
  return v;
}

static void test_fixed_point_is_exact(void **state) {
  (void)state;
  int rc;
  assert_int_equal(fixed("0.001", 9, &rc), 1000000);
  assert_int_equal(rc, 0);
  assert_int_equal(fixed("1e-6", 9, &rc), 1000);
  assert_int_equal(fixed("2.5", 3, &rc), 2500);
  assert_int_equal(fixed("86400", 9, &rc), 86400000000000ull);
  assert_int_equal(fixed("0", 9, &rc), 0);
  assert_int_equal(fixed("-0", 9, &rc), 0);
  assert_int_equal(rc, 0);
  assert_int_equal(fixed("0.0000000005", 9, &rc), 1); /* half up */
  assert_int_equal(fixed("0.0000000004", 9, &rc), 0);
  assert_int_equal(fixed("1.5E2", 0, &rc), 150);
  assert_int_equal(fixed("9999999999999999999", 0, &rc), 9999999999999999999ull);
  assert_int_equal(rc, 0); /* 19 significant digits: more than any unit needs */
  fixed("18446744073709551615", 0, &rc);
  assert_int_equal(rc, -1);
  fixed("9999999999999999999", 1, &rc); /* overflows once scaled */
  assert_int_equal(rc, -1);
  fixed("1e30", 0, &rc);
  assert_int_equal(rc, -1);
  fixed("-1", 0, &rc);
  assert_int_equal(rc, -1);
  assert_int_equal(rd("{\"n\":\"1\"}"), 1);
  uint64_t v;
  assert_int_equal(m0_json_fixed(&M[0], 0, &v), -1); /* a string is not a number */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_text_is_quoted_only),
      cmocka_unit_test(test_required_escapes),
      cmocka_unit_test(test_text_keeps_utf8),
      cmocka_unit_test(test_bytes_reading_escapes_high_bytes),
      cmocka_unit_test(test_truncation_never_splits_an_escape),
      cmocka_unit_test(test_tiny_buffers),
      cmocka_unit_test(test_read_members_and_types),
      cmocka_unit_test(test_read_decodes_escapes),
      cmocka_unit_test(test_read_refuses_what_json_does_not_allow),
      cmocka_unit_test(test_read_refusals_say_where),
      cmocka_unit_test(test_all_strings),
      cmocka_unit_test(test_read_depth_is_bounded),
      cmocka_unit_test(test_read_member_limit),
      cmocka_unit_test(test_fixed_point_is_exact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
