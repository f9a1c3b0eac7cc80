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

#endif
