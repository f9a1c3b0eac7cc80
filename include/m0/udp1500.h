/* udp1500.h: the vendor's setup protocols on UDP port 1500, the codec and the device's
 * answer (reference: UDP1500.md; what the emulator answers: docs/udp1500.md).
 *
 * Two protocols share the port, told apart by their first bytes and length:
 *  - "FF" (USR's variant of TI's device locator): search `FF 01 01 02` answered by a
 *    36-byte reply; restart, read (three datagrams: 130, 50, 84 bytes), basic block (67),
 *    port block (63), factory default and heartbeat/registration block (84), each carrying
 *    the module's MAC and the web user name and password (6 bytes each, NUL-padded).
 *    Requests: `FF LEN CMD ... SUM`, LEN = total - 3, SUM = low byte of the sum from LEN
 *    on. The search reply's length byte is the total (0x24) and its checksum is 0 minus
 *    the sum of every byte before it, FF included.
 *  - "similar T24": search = the 40 ASCII bytes "0123456789" x 4, reply 35 bytes (MAC,
 *    version byte, a 28-byte little-endian parameter block); set = 40 bytes (MAC, the
 *    password "110415", the 28-byte block). No checksums.
 *
 * Blocks are encoded from a struct m0_config and decoded into AT parameter settings
 * (NAME and value text), so every write goes through the parameter table like AT and the
 * web page. Decoding leaves a field alone when it comes back exactly as a read of the
 * current configuration encodes it, so a read-modify-write changes only what the writer
 * changed (fields a block cannot carry in full, such as a HEARTTM above 255 or a SOCK
 * host name in the T24 block, survive it).
 */
#ifndef M0_UDP1500_H
#define M0_UDP1500_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/net.h"
#include "m0/params.h"

#define M0_UDP1500_PORT 1500

/* ---- the FF protocol ---- */

#define M0_UDP1500_TAG 0xFF
#define M0_UDP1500_CRED_LEN 6 /* user name and password fields: NUL-padded */
/* CMD + MAC + user + password: the LEN of a command without parameters (0x13). */
#define M0_UDP1500_AUTH_LEN (1 + 6 + 2 * M0_UDP1500_CRED_LEN)
#define M0_UDP1500_SEARCH_REPLY_LEN 36
#define M0_UDP1500_STATUS_LEN 4
#define M0_UDP1500_BASIC_LEN 67
#define M0_UDP1500_PORT_BLOCK_LEN 63
#define M0_UDP1500_HEART_LEN 84
/* The read reply's middle datagram: not identified by any source; zeros. */
#define M0_UDP1500_READ_GAP_LEN 50
/* The longest FF request: FF LEN CMD, MAC, user, password, heartbeat block, SUM. */
#define M0_UDP1500_REQUEST_MAX (2 + M0_UDP1500_AUTH_LEN + M0_UDP1500_HEART_LEN + 1)

enum m0_udp1500_cmd {
  M0_UDP1500_SEARCH = 0x01,
  M0_UDP1500_RESTART = 0x02,
  M0_UDP1500_READ = 0x03,
  M0_UDP1500_SAVE = 0x04,    /* 410S only: answered E */
  M0_UDP1500_BASIC = 0x05,
  M0_UDP1500_PORT0 = 0x06,
  M0_UDP1500_DEFAULT = 0x0B,
  M0_UDP1500_CLOUD = 0x0C,   /* layout never published: answered E */
  M0_UDP1500_HEART = 0x21,
};

/* The status byte of a 4-byte reply `FF 01 <cmd> <status>`. */
enum m0_udp1500_status {
  M0_UDP1500_OK = 0x4B,     /* 'K' */
  M0_UDP1500_DENIED = 0x50, /* 'P': user name or password wrong (302 manual) */
  M0_UDP1500_ERROR = 0x45,  /* 'E': bad checksum, refused value, unsupported (410S) */
};

/* Low byte of the sum of data[0..len): the request checksum (over LEN..last param). */
uint8_t m0_udp1500_sum(const uint8_t *data, size_t len);

/* An FF request with its checksum: FF LEN cmd mac user pass params SUM. user and pass
 * are NUL-padded to 6 bytes (at most 6 are taken). Returns its length, or 0 when it does
 * not fit cap or LEN would exceed 255. */
size_t m0_udp1500_request(uint8_t *out, size_t cap, uint8_t cmd, const uint8_t mac[6],
                          const char *user, const char *pass, const uint8_t *params,
                          size_t plen);

extern const uint8_t m0_udp1500_ff_search[4];     /* FF 01 01 02 */
extern const uint8_t m0_udp1500_t24_search[40];   /* "0123456789" x 4 */

/* What a search reply says about a module. */
struct m0_udp1500_ident {
  uint8_t mac[6];
  uint8_t ip[4];         /* dotted order: ip[0] is the first number */
  uint8_t board_type, board_id;
  uint16_t version;      /* FF: the 16-bit version number (V4017: 4017) */
  uint8_t fw_extra[2];   /* FF: the "encrypted version" bytes */
  char name[17];         /* FF: the application title (AT+MID), NUL-terminated */
  bool sum_ok;           /* FF: the checksum verifies (clients ignore it) */
};

/* The 36-byte FF search reply for id (name cut at 16 bytes), with its checksum. */
void m0_udp1500_search_reply(uint8_t out[M0_UDP1500_SEARCH_REPLY_LEN],
                             const struct m0_udp1500_ident *id);
/* Parse a datagram as an FF search reply (36 bytes, FF 24 01). A wrong checksum does not
 * fail it (every public client ignores the checksum): sum_ok says. Returns 0, or -1 when
 * it is not a search reply. */
int m0_udp1500_search_reply_parse(const uint8_t *p, size_t len, struct m0_udp1500_ident *id);

/* ---- the similar-T24 protocol ---- */

#define M0_UDP1500_T24_REQUEST_LEN 40
#define M0_UDP1500_T24_REPLY_LEN 35
#define M0_UDP1500_T24_BLOCK_LEN 28
#define M0_UDP1500_T24_PASSWORD "110415"

/* The 28-byte T24 parameter block, decoded (for tools and tests). */
struct m0_udp1500_t24 {
  uint8_t mac[6];
  uint8_t version;        /* the low byte of the version number */
  uint8_t dest_ip[4];     /* SOCK's address; dotted order */
  uint16_t dest_port;
  uint8_t ip[4];          /* WANN's static address */
  uint16_t port;          /* SOCKPORT */
  uint8_t gateway[4];
  uint8_t mode;           /* 0 UDP client, 1 TCP client, 2 UDP server, 3 TCP server */
  uint32_t baud;
  uint8_t serial;         /* data bits - 5 | (stop - 1) << 2 | parity on << 3 | kind << 4 */
  uint16_t id;
  uint8_t flags;          /* 0x10 CLIENTRST, 0x20 SCSLINK, 0x40 INDEXEN, 0x80 RFCEN */
  uint8_t mask[4];
};

/* The block for a configuration (SOCK host names as 0.0.0.0, HTPC as TCP client). */
void m0_udp1500_t24_block(const struct m0_config *c, uint8_t out[M0_UDP1500_T24_BLOCK_LEN]);
/* The 35-byte reply: MAC, version byte, block. */
void m0_udp1500_t24_reply(uint8_t out[M0_UDP1500_T24_REPLY_LEN], const uint8_t mac[6],
                          uint8_t version, const uint8_t block[M0_UDP1500_T24_BLOCK_LEN]);
/* The 40-byte set: MAC, password (6 bytes, NUL-padded), block. */
void m0_udp1500_t24_set(uint8_t out[M0_UDP1500_T24_REQUEST_LEN], const uint8_t mac[6],
                        const char *password, const uint8_t block[M0_UDP1500_T24_BLOCK_LEN]);
/* Parse a 35-byte reply. Returns 0, or -1 when it is not one (length, or serial bits 7:6
 * set, which no module sends). */
int m0_udp1500_t24_parse(const uint8_t *p, size_t len, struct m0_udp1500_t24 *out);

/* ---- blocks and configuration ---- */

/* Encode the blocks from a configuration. mac: the factory MAC (read-only field). */
void m0_udp1500_basic_block(const struct m0_config *c, const uint8_t mac[6],
                            uint8_t out[M0_UDP1500_BASIC_LEN]);
void m0_udp1500_port_block(const struct m0_config *c, uint8_t out[M0_UDP1500_PORT_BLOCK_LEN]);
void m0_udp1500_heart_block(const struct m0_config *c, uint8_t out[M0_UDP1500_HEART_LEN]);

/* Settings decoded from a block: AT parameter names with value text, each to go through
 * the parameter table (m0_dev_edit_set, m0_param_set). */
#define M0_UDP1500_SETTINGS_MAX 12
#define M0_UDP1500_VALUE_MAX 128

struct m0_udp1500_setting {
  enum m0_param_id id;
  char value[M0_UDP1500_VALUE_MAX];
};

struct m0_udp1500_settings {
  unsigned n;
  struct m0_udp1500_setting s[M0_UDP1500_SETTINGS_MAX];
  /* When decoding fails: the block field whose value no parameter can hold. */
  const char *bad;
};

/* Decode a block against the configuration it changes. Returns 0 (out->n settings, 0
 * when nothing changed) or M0_ERR_PARAM with out->bad set: a field value that has no
 * meaning (a work mode 7, a parity code 9, both heartbeat directions at once). The
 * parameter table still validates every value. */
int m0_udp1500_basic_settings(const uint8_t in[M0_UDP1500_BASIC_LEN],
                              const struct m0_config *cur, struct m0_udp1500_settings *out);
int m0_udp1500_port_settings(const uint8_t in[M0_UDP1500_PORT_BLOCK_LEN],
                             const struct m0_config *cur, struct m0_udp1500_settings *out);
int m0_udp1500_heart_settings(const uint8_t in[M0_UDP1500_HEART_LEN],
                              const struct m0_config *cur, struct m0_udp1500_settings *out);
int m0_udp1500_t24_settings(const uint8_t in[M0_UDP1500_T24_BLOCK_LEN],
                            const struct m0_config *cur, struct m0_udp1500_settings *out);

/* Apply settings to cfg through the table, all or nothing. Returns 0, or the table's
 * error with *failed the index of the refused setting (cfg unchanged). */
int m0_udp1500_settings_apply(const struct m0_udp1500_settings *s, struct m0_config *cfg,
                              unsigned *failed);

/* "V4017" -> 4017; 0 when there is no number. */
uint16_t m0_udp1500_version(const char *ver);
/* 12 hex digits -> 6 bytes. Returns 0, or -1 when s is not 12 hex digits. */
int m0_udp1500_mac_parse(const char *s, uint8_t mac[6]);
/* A dotted quad (exactly, as AT writes it) -> 4 bytes. Returns 0 or -1. */
int m0_udp1500_ipv4_parse(const char *s, uint8_t ip[4]);

/* ---- the device ---- */

struct m0_dev;

/* One datagram arrived on the device's UDP 1500 socket, from `from`; `here` is the
 * module's own address and the port the socket is bound to (the address the FF search
 * reply reports; 0.0.0.0 or a non-IPv4 host: WANN's static address instead). The device
 * answers through hal->udp1500_send (now, or once a write reached flash), writes go
 * through the parameter table and flash like AT and apply at the next restart (the T24
 * set restarts the device), and one event tells what became of the datagram
 * (udp1500.accepted or udp1500.rejected, docs/events.md). */
void m0_dev_on_udp1500(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len,
                       const struct m0_net_addr *from, const struct m0_net_addr *here);

#endif
