/* fleet.h: many modules in one process (fleet.c): naming, addresses, MACs, the module
 * folders, the locks, the peer map; and the overview page (fleet_web.c).
 *
 * A fleet is one folder, DIR, with one sub-folder per module, DIR/<name>/ (its
 * flash.conf, its tty link, its lock). Module k (1-based) is called <prefix><k> with at
 * least four digits (m0001), owns the k-th loopback address counting from the base
 * (127.0.1.1 by default; host octets 0 and 255 are skipped, so 254 modules per /24) and
 * the MAC base + k - 1. Everything about a module follows from k, so an existing DIR
 * gives every module back its name, address, MAC and settings.
 */
#ifndef M0_BOARD_FLEET_H
#define M0_BOARD_FLEET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "m0/net.h"

/* Largest fleet: the address range of 127/8 and file descriptors end well before. */
#define M0__FLEET_MAX 100000
#define M0__FLEET_PREFIX_MAX 32
#define M0__PEERS_MAX 64

/* --peer ADDR[:PORT]=HOST[:PORT] (loopback mode): where a dialled device address goes
 * instead of 127.0.0.1 and the same port. */
struct m0__peer {
  char addr[M0_SOCK_ADDR_MAX + 1]; /* as the device names it (SOCK's address) */
  uint16_t port;                   /* 0 = any port of addr */
  struct sockaddr_in to;           /* loopback; port 0 = the dialled port */
};

struct m0__peer_map {
  struct m0__peer peers[M0__PEERS_MAX];
  size_t n;
};

/* Parse one --peer value into map (appended). Returns 0, or -1 with err set (one line,
 * without the option's name). */
int m0__peer_parse(struct m0__peer_map *map, const char *spec, char *err, size_t cap);
/* Where the device address a really is, if map says: true and *out filled (an IPv4
 * loopback address and port); else false (the default rule applies). map may be NULL.
 * An entry with a port wins over one without. */
bool m0__peer_find(const struct m0__peer_map *map, const struct m0_net_addr *a,
                   struct sockaddr_in *out);

/* ---- naming, addresses, MACs (pure) ---- */

/* The name of module k: prefix and k with at least four digits. */
void m0__fleet_name(char *out, size_t cap, const char *prefix, unsigned k);
/* The address of module k from base (host byte order, its last octet 1..254): the k-th
 * address counting from base, skipping last octets 0 and 255. Returns -ERANGE when it
 * would leave 127.0.0.0/8. */
int m0__fleet_addr(uint32_t base, unsigned k, uint32_t *out);
/* The MAC of module k: base + k - 1, 12 upper-case hex digits (the 48 bits wrap). */
void m0__fleet_mac(const char base[13], unsigned k, char out[13]);
/* The default base MAC of a fleet in the folder real_dir: the vendor OUI, one byte of a
 * hash of the path, then zeros: two fleets in different folders get different ranges
 * (unless the byte collides, 1 in 256: give --mac then). */
void m0__fleet_mac_base(const char *real_dir, char out[13]);

/* ---- the fleet's modules ---- */

struct m0__fleet_member {
  unsigned k;
  char name[M0__FLEET_PREFIX_MAX + 12];
  char addr[INET_ADDRSTRLEN];
  char mac[13];
  char *state; /* DIR/<name> (malloc'd) */
  char *tty;   /* DIR/<name>/tty (malloc'd) */
};

struct m0__fleet {
  char *dir; /* real path (malloc'd) */
  struct m0__fleet_member *members;
  size_t count;
};

/* Create DIR if needed and list its modules: 1..count, or (count 0) the module folders
 * DIR already holds (<prefix><digits>). base_addr is an IPv4 literal; base_mac 12 hex
 * digits or "" (m0__fleet_mac_base). Returns 0, or a negative errno with err set. */
int m0__fleet_plan(struct m0__fleet *f, const char *dir, unsigned count, const char *prefix,
                   const char *base_addr, const char *base_mac, char *err, size_t cap);
void m0__fleet_free(struct m0__fleet *f);
struct m0__proc;
/* DIR/fleet.tsv: one line per module (name, address, MAC, tty, web page), written whole
 * through a temporary file and a rename. Returns 0 or a negative errno. */
int m0__fleet_write_map(struct m0__proc *p);
/* The fleet's banner: its folder, the first and last modules, the map, the pages. */
void m0__fleet_banner(struct m0__proc *p, FILE *out);

/* Raise the soft limit of open files to the hard one: each module holds a few (a pty
 * pair, its lock, its web listener, its connections). Returns the new soft limit. */
unsigned long m0__fleet_raise_nofile(void);

/* ---- locks: a state folder or a tty link in use by a live m0emu ---- */

struct m0__lock {
  char *path; /* malloc'd; NULL: not held (so a zero-filled lock is not held) */
  int fd;
};

/* Take the lock file path (flock, exclusive, non-blocking) and write our pid into it
 * (and a second line, note, unless NULL: a fleet's prefix). what names the thing locked
 * for the message ("state folder /x", "--tty /y").
 * Returns 0; -EBUSY when a live process holds it, err then reads "<what> is in use by
 * m0emu pid N"; another negative errno when the file cannot be made, err says so. A lock
 * whose holder died is free (the kernel dropped it) and is taken over; *stale_pid is then
 * the pid the file named (0 if none). */
int m0__lock_take(struct m0__lock *lk, const char *path, const char *what, const char *note,
                  long *stale_pid, char *err, size_t cap);
/* Whether a live process holds the lock file path, without taking it: 0 (no file, or
 * nobody holds it), or -EBUSY with err "<what> is in use by m0emu pid N" and its note
 * line in note (cap bytes; may be NULL). */
int m0__lock_probe(const char *path, const char *what, char *note, size_t note_cap, char *err,
                   size_t cap);
/* A fleet holds one lock, DIR/fleet.lock (its note: the prefix), not one per module (a
 * file descriptor each). Whether folder (a real path: a state folder, or the folder of a
 * tty link named "tty") is a module folder of a live fleet: its parent's fleet.lock is
 * held and its name is <prefix><number> of that fleet. 0 or -EBUSY with err. */
int m0__fleet_probe(const char *folder, const char *what, char *err, size_t cap);
/* The fleet's side: with DIR/fleet.lock held, whether a single m0emu holds one of its
 * module folders or tty links (their lock files). 0 or -EBUSY with err. */
int m0__fleet_probe_members(const struct m0__fleet *f, bool no_tty, char *err, size_t cap);
/* m0__lock_take as a device or fleet uses it, logging through ev: a dead holder's lock
 * taken over is said (info); a lock file that cannot be made at all (a read-only folder:
 * EACCES, EROFS, EPERM) is a warning and 0: the module runs unguarded, as it did before
 * locks existed, rather than not at all. */
struct m0__events;
int m0__lock_use(const struct m0__events *ev, struct m0__lock *lk, const char *path,
                 const char *what, const char *note, char *err, size_t cap);
/* Remove the file (still holding it, so nobody takes a stale inode) and close it. */
void m0__lock_release(struct m0__lock *lk);

/* ---- fleet_web.c: the overview page ---- */

struct m0__fleet_web;
/* Listen on addr:port (an IP literal) for the overview page and its API; hosts are the
 * --web-host names the Host rule allows besides IP literals and localhost. Returns 0, or
 * a negative errno with err set (one line). m0__fleet_web_close and _free are due
 * either way. */
int m0__fleet_web_open(struct m0__proc *p, const char *addr, uint16_t port,
                       const char *const *hosts, size_t nhosts, char *err, size_t cap);
uint16_t m0__fleet_web_port(const struct m0__proc *p);
/* Close the listener and every connection (uv_run afterwards), then free. */
void m0__fleet_web_close(struct m0__proc *p);
void m0__fleet_web_free(struct m0__proc *p);

#endif
