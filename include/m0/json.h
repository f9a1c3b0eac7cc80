/* json.h: the one JSON string escaper of the program (core and board alike).
 *
 * Two readings of the input, because the program writes two kinds of strings: text
 * (names, paths, causes, error messages), where UTF-8 passes through untouched, and
 * bytes (UART and network traffic), where every byte outside printable ASCII becomes
 * \u00XX so a reader gets the byte values back. Pure: no allocation, no OS.
 */
#ifndef M0_JSON_H
#define M0_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* The longest escape of one byte: \u00XX. */
#define M0_JSON_ESCAPE_MAX 6

/* The escape of byte c inside a JSON string, written to out (not terminated), or 0 when
 * c stands for itself. bytes: escape 0x7f and above too (traffic); else only what JSON
 * requires plus DEL (text). */
size_t m0_json_escape_byte(unsigned char c, bool bytes, char out[M0_JSON_ESCAPE_MAX]);

/* s as a complete JSON string, with its quotes, into buf (always terminated when cap > 0).
 * Text reading. An input too long for buf is cut at a whole escape, never mid-escape.
 * Returns the length written (without the NUL). */
size_t m0_json_string(char *buf, size_t cap, const char *s);

/* "host:port" as a JSON string (m0_json_string), "[host]:port" when host holds a ':' (an
 * IPv6 literal): how events name a peer or a bound address. Returns buf. */
const char *m0_json_hostport(char *buf, size_t cap, const char *host, unsigned port);

#endif
