/* SPDX-License-Identifier: BSD-3-Clause
 *
 * steer.h: the control side of the XDP steering program (bpf/steer.bpf.c): open its pinned maps
 * and read or change the policy while the data plane runs; load and attach the program itself
 * when the data plane is not the loader (tests, the lab, an operator's manual check).
 *
 * Used by sluice-steer (the CLI), and by sluice-control for its REST API and /metrics, so it
 * follows the library rules: every function returns 0 or a count, or -errno; it fills structs
 * and never prints; where the reason for a failure matters to an operator (a stale pin, a map
 * that is missing) it is written into a caller's buffer of STEER_ERROR_MAX bytes.
 *
 * Stale pins: the maps outlive the program that made them (that is what pinning is for), so a
 * new build can meet pins of an older layout. steer_open() and steer_load() compare each pinned
 * map's type, key size, value size, max_entries and flags with steer_maps.h and fail with
 * -EPROTO and a message naming the map and both layouts; steer_unpin() removes the pins (the
 * policy in them is lost, the data plane keeps running on its already-loaded program until the
 * program is reloaded).
 *
 * Thread safety: a struct steer_maps is a set of file descriptors; concurrent calls are safe
 * for the kernel, but read-modify-write helpers (steer_syn_limit_set) are not atomic against
 * another writer.
 */
#ifndef SLUICE_CONTROL_STEER_H
#define SLUICE_CONTROL_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "steer_maps.h"

#define STEER_ERROR_MAX 512
#define STEER_ADDRESS_TEXT_MAX 48 /* an IPv6 address, '/', 3 digits, NUL */

struct steer_maps;   /* the pinned maps, opened */
struct steer_program; /* a program this process loaded */

/* --- Opening the pinned maps ------------------------------------------------------------- */

/* Opens every sluice_* map pinned in pin_dir (NULL: STEER_PIN_ROOT_DEFAULT). -ENOENT: not pinned
 * (no program loaded, or loaded elsewhere); -EPROTO: a pin with another layout. */
int steer_open(const char *pin_dir, struct steer_maps **out, char *err, size_t err_size);
void steer_close(struct steer_maps *maps);

/* Removes the sluice_* pins in pin_dir; returns how many were removed. */
int steer_unpin(const char *pin_dir);

/* --- Addresses ----------------------------------------------------------------------------- */

struct steer_prefix {
	uint8_t family;  /* STEER_FAMILY_IPV4 or STEER_FAMILY_IPV6 */
	uint8_t len;     /* bits */
	uint8_t addr[16]; /* network order, bits past len zero */
};

/* "198.18.0.1", "fd5c::1". -EINVAL on anything else. */
int steer_parse_address(const char *text, uint8_t *family, uint8_t addr[16]);
/* "198.18.0.0/24", "fd5c::/64"; a bare address is a host prefix. -EINVAL for a bad address or
 * length, and for bits set past the length ("198.18.0.1/24": which one was meant?). */
int steer_parse_prefix(const char *text, struct steer_prefix *out);
int steer_format_address(uint8_t family, const uint8_t addr[16], char *buf, size_t size);
int steer_format_prefix(const struct steer_prefix *prefix, char *buf, size_t size);

/* --- Services -------------------------------------------------------------------------------- */

struct steer_service {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;       /* host order; 0: the data plane owns the whole address */
	uint32_t service_id; /* < STEER_SERVICE_ID_MAX: selects the admission state */
};

int steer_service_add(struct steer_maps *maps, const struct steer_service *service); /* or replace */
int steer_service_remove(struct steer_maps *maps, const struct steer_service *service); /* id ignored */
/* All entries, sorted by family, address, port; *out is malloc'd (free() it). */
int steer_service_list(struct steer_maps *maps, struct steer_service **out, size_t *count);

/* --- Blocklist ------------------------------------------------------------------------------- */

struct steer_block_entry {
	struct steer_prefix prefix;
	uint64_t drops;
};

int steer_block_add(struct steer_maps *maps, const struct steer_prefix *prefix); /* resets drops */
int steer_block_remove(struct steer_maps *maps, const struct steer_prefix *prefix);
int steer_block_list(struct steer_maps *maps, struct steer_block_entry **out, size_t *count);

/* --- Admission ------------------------------------------------------------------------------- */

int steer_admission_get(struct steer_maps *maps, uint32_t service_id, enum steer_admission *state);
int steer_admission_set(struct steer_maps *maps, uint32_t service_id, enum steer_admission state);
const char *steer_admission_name(enum steer_admission state); /* "open", "draining", "closed" */
int steer_admission_parse(const char *text, enum steer_admission *state);

/* --- Run-time settings ----------------------------------------------------------------------- */

/* The build's defaults (what the program uses until a config is written); magic stays 0. */
void steer_config_defaults(struct steer_config *cfg);
/* The config in force: the written one, or the build's defaults (then cfg->magic == 0);
 * -EPROTO for a config written by a build with another STEER_LAYOUT_VERSION (the program
 * ignores it and runs on its defaults; steer_config_set replaces it). */
int steer_config_get(struct steer_maps *maps, struct steer_config *cfg);
/* Validates (prefix lengths, enums, reserved zero), stamps magic and layout version, writes.
 * Changing any SYN limit field empties sluice_syn_rate: buckets mean something else after. */
int steer_config_set(struct steer_maps *maps, const struct steer_config *cfg);
int steer_syn_limit_set(struct steer_maps *maps, uint32_t rate_per_sec, uint32_t burst);

struct steer_syn_entry {
	struct steer_prefix prefix;
	uint64_t drops;
};
/* Source prefixes that have a SYN bucket, with the SYNs each had dropped. */
int steer_syn_list(struct steer_maps *maps, struct steer_syn_entry **out, size_t *count);

/* --- Counters -------------------------------------------------------------------------------- */

/* Sums the per-CPU counters; names are steer_counter_names[i] (steer_maps.h). */
int steer_counters_read(struct steer_maps *maps, struct steer_counter_value totals[STEER_COUNTER_COUNT]);
int steer_counters_clear(struct steer_maps *maps);

/* --- Loading the program ourselves ----------------------------------------------------------- */

struct steer_load_opts {
	const char *pin_dir;                 /* NULL: STEER_PIN_ROOT_DEFAULT */
	bool no_pin;                         /* private maps, nothing in bpffs (tests) */
	const struct steer_config *defaults; /* load-time defaults; NULL: the build's */
};

/* Opens the embedded object (the same bytes as steer.bpf.o), reuses compatible pins or pins new
 * maps, loads. Does not attach. */
int steer_load(const struct steer_load_opts *opts, struct steer_program **out, char *err, size_t err_size);
int steer_program_fd(const struct steer_program *program);
/* Map fd by steer_maps.h name (STEER_MAP_*), -ENOENT for another name. */
int steer_program_map_fd(const struct steer_program *program, const char *map_name);
/* Attaches to ifindex (flags: XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE); like the af_xdp PMD it
 * will not replace a program that is already there (-EBUSY). */
int steer_attach(struct steer_program *program, int ifindex, uint32_t xdp_flags);
/* Detaches whatever XDP program is on ifindex in that mode. */
int steer_detach(int ifindex, uint32_t xdp_flags);
/* Closes this process's handles: an attached program stays attached, pins stay. */
void steer_program_free(struct steer_program *program);

#endif /* SLUICE_CONTROL_STEER_H */
