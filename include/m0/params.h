/* params.h: the AT parameter table and the configuration it describes.
 *
 * One declarative entry per command of the spec's §4 table. Everything that reads or
 * writes a parameter value goes through this table: the AT engine, the flash loader,
 * the web page and the generated documentation. Nothing else parses parameter values.
 */
#ifndef M0_PARAMS_H
#define M0_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/err.h"

enum m0_dialect { M0_DIALECT_DOC, M0_DIALECT_FIELD };

enum m0_proto { M0_PROTO_TCPC, M0_PROTO_TCPS, M0_PROTO_UDPC, M0_PROTO_UDPS, M0_PROTO_HTPC };
enum m0_parity { M0_PARITY_NONE, M0_PARITY_EVEN, M0_PARITY_ODD, M0_PARITY_MASK, M0_PARITY_SPACE };
enum m0_wann_mode { M0_WANN_STATIC, M0_WANN_DHCP };
enum m0_tcpse { M0_TCPSE_KEEP, M0_TCPSE_KICK };
enum m0_regen { M0_REGEN_OFF, M0_REGEN_MAC, M0_REGEN_USR };
enum m0_regtcp { M0_REGTCP_FIRST, M0_REGTCP_EVERY };
enum m0_htptp { M0_HTPTP_GET, M0_HTPTP_POST };
enum m0_hearttp { M0_HEARTTP_NET, M0_HEARTTP_COM };
enum m0_flow { M0_FLOW_NFC };

#define M0_WEBU_MAX 15
#define M0_SOCK_ADDR_MAX 30
#define M0_REGCLOUD_ID_LEN 20
#define M0_REGCLOUD_PASS_MAX 7
#define M0_HEX_BYTES_MAX 40
#define M0_HTPURL_MAX 29
#define M0_HTPHEAD_MAX 200
#define M0_MID_MAX 14

/* The value of every settable parameter. Strings are NUL-terminated. */
struct m0_config {
  bool echo;
  char webu_user[M0_WEBU_MAX + 1];
  char webu_pass[M0_WEBU_MAX + 1];
  uint8_t wann_mode; /* enum m0_wann_mode */
  uint8_t wann_ip[4];
  uint8_t wann_mask[4];
  uint8_t wann_gateway[4];
  uint8_t dns[4];
  uint16_t webport;
  uint32_t baud;
  uint8_t data_bits;
  uint8_t stop_bits;
  uint8_t parity; /* enum m0_parity */
  uint8_t flow;   /* enum m0_flow */
  uint8_t proto;  /* enum m0_proto */
  char sock_addr[M0_SOCK_ADDR_MAX + 1];
  uint16_t sock_port;
  uint8_t tcpse; /* enum m0_tcpse */
  uint16_t sockport;
  bool rfcen;
  uint8_t regen;  /* enum m0_regen */
  uint8_t regtcp; /* enum m0_regtcp */
  char regcloud_id[M0_REGCLOUD_ID_LEN + 1];
  char regcloud_pass[M0_REGCLOUD_PASS_MAX + 1];
  uint8_t regusr[M0_HEX_BYTES_MAX];
  uint8_t regusr_len;
  uint8_t htptp; /* enum m0_htptp */
  char htpurl[M0_HTPURL_MAX + 1];
  char htphead[M0_HTPHEAD_MAX + 1];
  bool htpchd;
  bool hearten;
  uint8_t hearttp; /* enum m0_hearttp */
  uint16_t hearttm;
  uint8_t heartdt[M0_HEX_BYTES_MAX];
  uint8_t heartdt_len;
  bool scslink;
  bool clientrst;
  bool indexen;
  bool socksl;
  uint8_t shorto;
  bool uartclbuf;
  uint16_t rstim;
  uint8_t maxsk;
  char mid[M0_MID_MAX + 1];
};

/* Which forms a command accepts (bit set). */
enum m0_form {
  M0_FORM_QUERY = 1 << 0,  /* AT+NAME and AT+NAME? */
  M0_FORM_SET = 1 << 1,    /* AT+NAME=value */
  M0_FORM_ACTION = 1 << 2, /* AT+NAME runs something */
};

/* When a new value changes behaviour (spec §4 "applies"). */
enum m0_applies { M0_APPLIES_NEVER, M0_APPLIES_NOW, M0_APPLIES_RESTART };

/* Every command: its index in m0_params[]. */
enum m0_param_id {
  M0_ID_E, M0_ID_Z, M0_ID_VER, M0_ID_ENTM, M0_ID_RELD, M0_ID_MAC, M0_ID_WEBU, M0_ID_WANN,
  M0_ID_DNS, M0_ID_WEBPORT, M0_ID_UART, M0_ID_SOCK, M0_ID_TCPSE, M0_ID_SOCKLK,
  M0_ID_SOCKPORT, M0_ID_RFCEN, M0_ID_PDTIME, M0_ID_REGEN, M0_ID_REGTCP, M0_ID_REGCLOUD,
  M0_ID_REGUSR, M0_ID_HTPTP, M0_ID_HTPURL, M0_ID_HTPHEAD, M0_ID_HTPCHD, M0_ID_HEARTEN,
  M0_ID_HEARTTP, M0_ID_HEARTTM, M0_ID_HEARTDT, M0_ID_SCSLINK, M0_ID_CLIENTRST,
  M0_ID_INDEXEN, M0_ID_SOCKSL, M0_ID_SHORTO, M0_ID_UARTCLBUF, M0_ID_RSTIM, M0_ID_MAXSK,
  M0_ID_MID, M0_ID_H,
  M0_ID_COUNT
};

enum m0_field_type {
  M0_FIELD_ONOFF, /* bool; on/off (field dialect ON/OFF) */
  M0_FIELD_UINT,  /* decimal, min..max; stored in a uint8/16/32 of `size` bytes */
  M0_FIELD_ENUM,  /* one of `choices` (case-insensitive), stored as uint8 index */
  M0_FIELD_IPV4,  /* dotted quad, stored as uint8[4] */
  M0_FIELD_TEXT,  /* printable ASCII, min..max bytes, stored NUL-terminated */
  M0_FIELD_HOST,  /* dotted quad or host name, at most max bytes */
  M0_FIELD_HEX,   /* even-length hex, min..max decoded bytes; length byte follows data */
};

struct m0_field {
  const char *name;          /* for docs and the web page, e.g. "baud" */
  enum m0_field_type type;
  uint32_t min, max;         /* value range (UINT) or length range (TEXT, HOST, HEX) */
  const char *const *choices; /* ENUM: canonical doc spellings, NULL-terminated */
  const char *const *aliases; /* ENUM: optional "ALIAS=CANONICAL" pairs, NULL-terminated */
  bool upper_in_field;       /* ENUM/ONOFF: printed upper-case in the field dialect */
  size_t offset;             /* into struct m0_config */
  size_t size;               /* bytes at offset (UINT width, TEXT buffer, HEX buffer) */
  size_t len_offset;         /* HEX: offset of the uint8_t decoded length */
};

#define M0_FIELDS_MAX 5

struct m0_dev; /* include/m0/dev.h: the table is read where no device exists too */

/* Runs a command that is not stored configuration (AT+Z, AT+VER, AT+H, ...) and writes
 * its whole reply, OK or error included, toward the device's host, as it is at `now`.
 * Defined by the AT engine (src/core/at.c). */
typedef void m0_param_exec_fn(struct m0_dev *dev, uint64_t now);

struct m0_param {
  enum m0_param_id id;
  const char *name;          /* upper case, without "AT+" */
  unsigned forms;            /* enum m0_form bits */
  enum m0_applies applies;
  const char *help;          /* AT+H line after "AT+NAME-" */
  const char *syntax;        /* value syntax for docs, e.g. "baud,data,stop,parity,flow" */
  const char *range;         /* human-readable range for docs */
  const char *defval;        /* factory default in doc spelling; NULL when not stored */
  bool rest_of_line;         /* one free-text field: the whole rest of the line */
  unsigned nfields;
  unsigned min_fields;       /* fewer fields than nfields accepted (WANN's lone DHCP) */
  struct m0_field fields[M0_FIELDS_MAX];
  /* Extra whole-value rule after the fields parsed, or NULL. Returns 0 or M0_E_INVAL. */
  int (*check)(const struct m0_config *cfg, unsigned nfields_given);
  /* Not stored configuration: what the command does; NULL for stored configuration,
   * whose query answers its saved value. */
  m0_param_exec_fn *exec;
};

extern const struct m0_param m0_params[M0_ID_COUNT];

/* Longest formatted value of any parameter (HTPHEAD: 200 bytes, plus margin). */
#define M0_VALUE_MAX 256

/* Find a command by name (case-insensitive, `len` bytes, no "AT+"). NETP finds SOCK.
 * Returns NULL when unknown. */
const struct m0_param *m0_param_find(const char *name, size_t len);

/* True when the command is stored configuration (has a settable value). */
static inline bool m0_param_is_config(const struct m0_param *p) {
  return (p->forms & M0_FORM_SET) != 0;
}

/* Factory defaults for every stored parameter. */
void m0_config_defaults(struct m0_config *cfg);

/* Validate `value` (len bytes, no terminator) and store it in cfg. On any error cfg is
 * left exactly as it was. Returns 0, M0_E_INVAL, or M0_E_NOTCONFIG if p is not
 * settable. */
int m0_param_set(const struct m0_param *p, struct m0_config *cfg, const char *value,
                 size_t len);

/* Write the canonical value text of a stored parameter into buf (NUL-terminated).
 * Returns its length, or a negative M0_E_NOTCONFIG if p is not stored configuration. */
int m0_param_format(const struct m0_param *p, const struct m0_config *cfg,
                    enum m0_dialect dialect, char *buf, size_t cap);

/* Bits on the line per character: 1 start + data + parity (0 or 1) + stop. */
unsigned m0_uart_bits_per_char(uint8_t data_bits, uint8_t stop_bits, uint8_t parity);

/* The value of one hex digit (either case), or -1: the one such helper of the program. */
int m0_hex_digit(int c);

#endif
