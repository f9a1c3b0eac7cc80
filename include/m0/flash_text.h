/* flash_text.h: the flash file's text format (spec §5), pure parse and format.
 *
 * The file is a header line naming the format version, then one `AT+NAME=value` line
 * per stored parameter, in table order, doc dialect. The loader runs every value through
 * the parameter table (m0_param_set), so the file and the serial port share one
 * validation path. File I/O (atomic write, .bad rename) lives in src/board/flash.c.
 */
#ifndef M0_FLASH_TEXT_H
#define M0_FLASH_TEXT_H

#include <stddef.h>

#include "m0/params.h"

#define M0_FLASH_HEADER "# m0emu flash v1"
/* Upper bound of a formatted flash file: about 40 lines of at most ~220 bytes. */
#define M0_FLASH_MAX 12288

enum { M0_FLASH_OK = 0, M0_FLASH_UNPARSEABLE = -1 };

/* Called once per line that was skipped, with its 1-based number and the reason. */
typedef void (*m0_flash_report_fn)(void *ctx, unsigned line, const char *message);

/* Format cfg as a flash file into buf. Returns the length, or 0 if cap is too small. */
size_t m0_flash_format(const struct m0_config *cfg, char *buf, size_t cap);

/* Parse a flash file. cfg is first set to factory defaults, then each valid line is
 * applied. Lines that are unknown, malformed or hold an invalid value are reported and
 * skipped (the parameter keeps its default). Returns M0_FLASH_OK, or
 * M0_FLASH_UNPARSEABLE when the text is not a flash file at all (no valid header, a NUL
 * byte, or longer than M0_FLASH_MAX); cfg then holds factory defaults. report may be
 * NULL. */
int m0_flash_parse(const char *text, size_t len, struct m0_config *cfg,
                   m0_flash_report_fn report, void *ctx);

/* The same over a module's own factory settings (a profile, below): cfg starts as a copy
 * of factory instead of the built-in defaults, so a line that is missing or refused
 * keeps the factory value. m0_flash_parse is this over m0_config_defaults(). */
int m0_flash_parse_over(const char *text, size_t len, const struct m0_config *factory,
                        struct m0_config *cfg, m0_flash_report_fn report, void *ctx);

/* A profile: the starting values a module leaves the factory with (echo off, its SOCK),
 * which AT+RELD returns to. Unlike flash, which is lenient because it is the module's own
 * memory, a profile is the user's input, so it is strict: the first line that is not
 * valid stops it, and the caller refuses to start (nothing half-applied).
 *
 * Room for a reason: the value (up to 40 bytes shown) and the parameter's syntax. */
#define M0_PROFILE_REASON_MAX 256

/* Apply a profile file over cfg: the flash format (a flash.conf is a profile), but the
 * header line is optional and every line starting with '#' is a comment. Every other
 * non-blank line must be AT+NAME=value naming a stored parameter with a value the table
 * accepts; lines apply in order, a later one overriding an earlier one. Returns 0, or the
 * 1-based number of the first bad line with why in reason; cfg is then unchanged. */
unsigned m0_profile_parse(const char *text, size_t len, struct m0_config *cfg, char *reason,
                          size_t cap);

/* One assignment NAME=VALUE (AT+ before NAME optional, NAME case-insensitive), as the
 * command line's --set gives it, over cfg. Returns 0, or an M0_ERR_* code with why in
 * reason (cfg unchanged). */
int m0_profile_set(struct m0_config *cfg, const char *assignment, size_t len, char *reason,
                   size_t cap);

#endif
