/* SPDX-License-Identifier: BSD-3-Clause
 *
 * steer.c: the steering program's control library (see steer.h): pinned maps opened by path
 * and checked against steer_maps.h, policy read and written through the bpf(2) map calls, the
 * per-CPU counters summed, and the skeleton-based loader.
 *
 * Control path only: nothing here runs per packet. Map iteration (lists, clearing the SYN
 * buckets) collects keys first and then acts on them, because deleting while walking a hash
 * map with get_next_key restarts the walk from the first bucket each time.
 */
#include "steer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "steer.skel.h"

enum steer_map_index {
	STEER_M_SERVICES,
	STEER_M_ADMIT,
	STEER_M_BLOCK,
	STEER_M_SYN_RATE,
	STEER_M_CONFIG,
	STEER_M_COUNTERS,
	STEER_M_COUNT
};

/* What each pinned map must look like; one row per map, in steer_maps.h's order. */
struct steer_map_spec {
	const char *name;
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t flags;
};

static const struct steer_map_spec steer_map_specs[STEER_M_COUNT] = {
	[STEER_M_SERVICES] = {STEER_MAP_SERVICES, BPF_MAP_TYPE_HASH, sizeof(struct steer_service_key),
			      sizeof(struct steer_service_value), STEER_SERVICES_MAX, 0},
	[STEER_M_ADMIT] = {STEER_MAP_ADMIT, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u32), STEER_SERVICE_ID_MAX, 0},
	[STEER_M_BLOCK] = {STEER_MAP_BLOCK, BPF_MAP_TYPE_LPM_TRIE, sizeof(struct steer_block_key),
			   sizeof(struct steer_block_value), STEER_BLOCK_MAX, BPF_F_NO_PREALLOC},
	[STEER_M_SYN_RATE] = {STEER_MAP_SYN_RATE, BPF_MAP_TYPE_LRU_HASH, sizeof(struct steer_syn_key),
			      sizeof(struct steer_syn_bucket), STEER_SYN_RATE_MAX, 0},
	[STEER_M_CONFIG] = {STEER_MAP_CONFIG, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct steer_config), 1, 0},
	[STEER_M_COUNTERS] = {STEER_MAP_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
			      sizeof(struct steer_counter_value), STEER_COUNTER_COUNT, 0},
};

struct steer_maps {
	int fd[STEER_M_COUNT];
	int possible_cpus;
};

struct steer_program {
	struct steer_bpf *skel;
};

static void steer_error(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void steer_error(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_size)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

static int steer_pin_path(const char *pin_dir, const char *name, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%s", pin_dir ? pin_dir : STEER_PIN_ROOT_DEFAULT, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Compares an open map with its spec: 0, or -EPROTO with the two layouts in err. */
static int steer_check_map(int fd, const struct steer_map_spec *spec, const char *path, char *err, size_t err_size)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		int rc = -errno;

		steer_error(err, err_size, "%s: cannot read map info: %s", path, strerror(-rc));
		return rc;
	}
	if (info.type != spec->type || info.key_size != spec->key_size || info.value_size != spec->value_size ||
	    info.max_entries != spec->max_entries || info.map_flags != spec->flags) {
		steer_error(err, err_size,
			    "%s: stale pin from another sluice build: type %u, key %u B, value %u B, %u entries, "
			    "flags %#x where this build expects type %u, key %u B, value %u B, %u entries, flags %#x; "
			    "remove the pins (sluice-steer unpin) and reload the program",
			    path, info.type, info.key_size, info.value_size, info.max_entries, info.map_flags,
			    spec->type, spec->key_size, spec->value_size, spec->max_entries, spec->flags);
		return -EPROTO;
	}
	return 0;
}

int steer_open(const char *pin_dir, struct steer_maps **out, char *err, size_t err_size)
{
	struct steer_maps *maps;
	char path[PATH_MAX];
	int rc, i;

	if (!out)
		return -EINVAL;
	*out = NULL;
	maps = calloc(1, sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	for (i = 0; i < STEER_M_COUNT; i++)
		maps->fd[i] = -1;
	maps->possible_cpus = libbpf_num_possible_cpus();
	if (maps->possible_cpus <= 0) {
		rc = maps->possible_cpus < 0 ? maps->possible_cpus : -EINVAL;
		steer_error(err, err_size, "cannot count possible CPUs: %s", strerror(-rc));
		goto cleanup;
	}
	for (i = 0; i < STEER_M_COUNT; i++) {
		rc = steer_pin_path(pin_dir, steer_map_specs[i].name, path, sizeof(path));
		if (rc < 0) {
			steer_error(err, err_size, "pin directory name too long");
			goto cleanup;
		}
		maps->fd[i] = bpf_obj_get(path);
		if (maps->fd[i] < 0) {
			rc = -errno;
			maps->fd[i] = -1;
			if (rc == -ENOENT)
				steer_error(err, err_size, "%s: not pinned (is the steering program loaded?)", path);
			else
				steer_error(err, err_size, "%s: %s", path, strerror(-rc));
			goto cleanup;
		}
		rc = steer_check_map(maps->fd[i], &steer_map_specs[i], path, err, err_size);
		if (rc < 0)
			goto cleanup;
	}
	*out = maps;
	return 0;

cleanup:
	steer_close(maps);
	return rc;
}

void steer_close(struct steer_maps *maps)
{
	if (!maps)
		return;
	for (int i = 0; i < STEER_M_COUNT; i++)
		if (maps->fd[i] >= 0)
			close(maps->fd[i]);
	free(maps);
}

int steer_unpin(const char *pin_dir)
{
	char path[PATH_MAX];
	int removed = 0;

	for (int i = 0; i < STEER_M_COUNT; i++) {
		if (steer_pin_path(pin_dir, steer_map_specs[i].name, path, sizeof(path)) < 0)
			return -ENAMETOOLONG;
		if (unlink(path) == 0)
			removed++;
		else if (errno != ENOENT)
			return -errno;
	}
	return removed;
}

/* --- Addresses ----------------------------------------------------------------------------- */

int steer_parse_address(const char *text, uint8_t *family, uint8_t addr[16])
{
	uint8_t buf[16];

	if (!text || !family || !addr)
		return -EINVAL;
	memset(buf, 0, sizeof(buf));
	if (inet_pton(AF_INET, text, buf) == 1) {
		*family = STEER_FAMILY_IPV4;
	} else if (inet_pton(AF_INET6, text, buf) == 1) {
		*family = STEER_FAMILY_IPV6;
	} else {
		return -EINVAL;
	}
	memcpy(addr, buf, sizeof(buf));
	return 0;
}

static unsigned steer_family_bits(uint8_t family)
{
	return family == STEER_FAMILY_IPV4 ? 32 : family == STEER_FAMILY_IPV6 ? 128 : 0;
}

static bool steer_host_bits_clear(const uint8_t addr[16], unsigned len)
{
	for (unsigned bit = len; bit < 128; bit++)
		if (addr[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

int steer_parse_prefix(const char *text, struct steer_prefix *out)
{
	char address[INET6_ADDRSTRLEN];
	const char *slash;
	unsigned long len;
	size_t n = 0;
	char *end;
	int rc;

	if (!text || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	slash = strchr(text, '/');
	n = slash ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof(address))
		return -EINVAL;
	memcpy(address, text, n);
	address[n] = '\0';
	rc = steer_parse_address(address, &out->family, out->addr);
	if (rc < 0)
		return rc;
	if (!slash) {
		out->len = (uint8_t)steer_family_bits(out->family);
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || len > steer_family_bits(out->family))
		return -EINVAL;
	if (!steer_host_bits_clear(out->addr, (unsigned)len))
		return -EINVAL;
	out->len = (uint8_t)len;
	return 0;
}

int steer_format_address(uint8_t family, const uint8_t addr[16], char *buf, size_t size)
{
	int af = family == STEER_FAMILY_IPV4 ? AF_INET : family == STEER_FAMILY_IPV6 ? AF_INET6 : -1;

	if (af < 0 || !buf)
		return -EINVAL;
	if (!inet_ntop(af, addr, buf, (socklen_t)size))
		return -ENOSPC;
	return 0;
}

int steer_format_prefix(const struct steer_prefix *prefix, char *buf, size_t size)
{
	char address[INET6_ADDRSTRLEN];
	int rc, n;

	if (!prefix)
		return -EINVAL;
	rc = steer_format_address(prefix->family, prefix->addr, address, sizeof(address));
	if (rc < 0)
		return rc;
	n = snprintf(buf, size, "%s/%u", address, prefix->len);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

/* --- Map walking ----------------------------------------------------------------------------- */

/* Collects every key of a map into a malloc'd array. */
static int steer_collect_keys(int fd, size_t key_size, size_t max_entries, void **keys_out, size_t *count_out)
{
	uint8_t *keys = malloc(key_size * (max_entries ? max_entries : 1));
	size_t count = 0;
	void *prev = NULL;
	int rc;

	if (!keys)
		return -ENOMEM;
	for (;;) {
		if (count == max_entries)
			break;
		rc = bpf_map_get_next_key(fd, prev, keys + count * key_size);
		if (rc < 0) {
			rc = -errno;
			if (rc == -ENOENT)
				break;
			free(keys);
			return rc;
		}
		prev = keys + count * key_size;
		count++;
	}
	*keys_out = keys;
	*count_out = count;
	return 0;
}

/* --- Services -------------------------------------------------------------------------------- */

static int steer_service_key_make(const struct steer_service *service, struct steer_service_key *key)
{
	if (!service || (service->family != STEER_FAMILY_IPV4 && service->family != STEER_FAMILY_IPV6))
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	key->family = service->family;
	key->proto = service->port ? IPPROTO_TCP : 0;
	key->port = htons(service->port);
	memcpy(key->addr, service->addr, service->family == STEER_FAMILY_IPV4 ? 4 : 16);
	return 0;
}

int steer_service_add(struct steer_maps *maps, const struct steer_service *service)
{
	struct steer_service_value value = {0};
	struct steer_service_key key;
	int rc;

	if (!maps)
		return -EINVAL;
	rc = steer_service_key_make(service, &key);
	if (rc < 0)
		return rc;
	if (service->service_id >= STEER_SERVICE_ID_MAX)
		return -ERANGE;
	value.service_id = service->service_id;
	if (bpf_map_update_elem(maps->fd[STEER_M_SERVICES], &key, &value, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int steer_service_remove(struct steer_maps *maps, const struct steer_service *service)
{
	struct steer_service_key key;
	int rc;

	if (!maps)
		return -EINVAL;
	rc = steer_service_key_make(service, &key);
	if (rc < 0)
		return rc;
	if (bpf_map_delete_elem(maps->fd[STEER_M_SERVICES], &key) < 0)
		return -errno;
	return 0;
}

static int steer_service_compare(const void *a, const void *b)
{
	const struct steer_service *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family - y->family;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	return (int)x->port - (int)y->port;
}

int steer_service_list(struct steer_maps *maps, struct steer_service **out, size_t *count)
{
	struct steer_service_key *keys = NULL;
	struct steer_service *list;
	size_t n = 0, found = 0;
	int rc;

	if (!maps || !out || !count)
		return -EINVAL;
	rc = steer_collect_keys(maps->fd[STEER_M_SERVICES], sizeof(*keys), STEER_SERVICES_MAX, (void **)&keys, &n);
	if (rc < 0)
		return rc;
	list = calloc(n ? n : 1, sizeof(*list));
	if (!list) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct steer_service_value value;

		if (bpf_map_lookup_elem(maps->fd[STEER_M_SERVICES], &keys[i], &value) < 0)
			continue; /* removed meanwhile */
		list[found].family = keys[i].family;
		memcpy(list[found].addr, keys[i].addr, sizeof(keys[i].addr));
		list[found].port = ntohs(keys[i].port);
		list[found].service_id = value.service_id;
		found++;
	}
	free(keys);
	qsort(list, found, sizeof(*list), steer_service_compare);
	*out = list;
	*count = found;
	return 0;
}

/* --- Blocklist ------------------------------------------------------------------------------- */

static int steer_block_key_make(const struct steer_prefix *prefix, struct steer_block_key *key)
{
	unsigned bits;

	if (!prefix)
		return -EINVAL;
	bits = steer_family_bits(prefix->family);
	if (!bits || prefix->len > bits || !steer_host_bits_clear(prefix->addr, prefix->len))
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	key->prefixlen = STEER_BLOCK_PREFIXLEN(prefix->len);
	key->family = prefix->family;
	memcpy(key->addr, prefix->addr, bits / 8);
	return 0;
}

int steer_block_add(struct steer_maps *maps, const struct steer_prefix *prefix)
{
	struct steer_block_value value = {0};
	struct steer_block_key key;
	int rc;

	if (!maps)
		return -EINVAL;
	rc = steer_block_key_make(prefix, &key);
	if (rc < 0)
		return rc;
	if (bpf_map_update_elem(maps->fd[STEER_M_BLOCK], &key, &value, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int steer_block_remove(struct steer_maps *maps, const struct steer_prefix *prefix)
{
	struct steer_block_key key;
	int rc;

	if (!maps)
		return -EINVAL;
	rc = steer_block_key_make(prefix, &key);
	if (rc < 0)
		return rc;
	if (bpf_map_delete_elem(maps->fd[STEER_M_BLOCK], &key) < 0)
		return -errno;
	return 0;
}

static int steer_block_compare(const void *a, const void *b)
{
	const struct steer_block_entry *x = a, *y = b;
	int c;

	if (x->prefix.family != y->prefix.family)
		return x->prefix.family - y->prefix.family;
	c = memcmp(x->prefix.addr, y->prefix.addr, sizeof(x->prefix.addr));
	if (c)
		return c;
	return (int)x->prefix.len - (int)y->prefix.len;
}

int steer_block_list(struct steer_maps *maps, struct steer_block_entry **out, size_t *count)
{
	struct steer_block_entry *list;
	struct steer_block_key *keys = NULL;
	size_t n = 0, found = 0;
	int rc;

	if (!maps || !out || !count)
		return -EINVAL;
	rc = steer_collect_keys(maps->fd[STEER_M_BLOCK], sizeof(*keys), STEER_BLOCK_MAX, (void **)&keys, &n);
	if (rc < 0)
		return rc;
	list = calloc(n ? n : 1, sizeof(*list));
	if (!list) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct steer_block_value value;

		if (keys[i].prefixlen < 32 || bpf_map_lookup_elem(maps->fd[STEER_M_BLOCK], &keys[i], &value) < 0)
			continue;
		list[found].prefix.family = keys[i].family;
		list[found].prefix.len = (uint8_t)(keys[i].prefixlen - 32);
		memcpy(list[found].prefix.addr, keys[i].addr, sizeof(keys[i].addr));
		list[found].drops = value.drops;
		found++;
	}
	free(keys);
	qsort(list, found, sizeof(*list), steer_block_compare);
	*out = list;
	*count = found;
	return 0;
}

/* --- Admission ------------------------------------------------------------------------------- */

static const char *const steer_admission_names[STEER_ADMIT_COUNT] = {
	[STEER_ADMIT_OPEN] = "open",
	[STEER_ADMIT_DRAINING] = "draining",
	[STEER_ADMIT_CLOSED] = "closed",
};

const char *steer_admission_name(enum steer_admission state)
{
	return (unsigned)state < STEER_ADMIT_COUNT ? steer_admission_names[state] : "unknown";
}

int steer_admission_parse(const char *text, enum steer_admission *state)
{
	if (!text || !state)
		return -EINVAL;
	for (unsigned i = 0; i < STEER_ADMIT_COUNT; i++)
		if (strcmp(text, steer_admission_names[i]) == 0) {
			*state = (enum steer_admission)i;
			return 0;
		}
	return -EINVAL;
}

int steer_admission_get(struct steer_maps *maps, uint32_t service_id, enum steer_admission *state)
{
	__u32 value;

	if (!maps || !state)
		return -EINVAL;
	if (service_id >= STEER_SERVICE_ID_MAX)
		return -ERANGE;
	if (bpf_map_lookup_elem(maps->fd[STEER_M_ADMIT], &service_id, &value) < 0)
		return -errno;
	/* The program treats every value but open and draining as closed; so do we. */
	*state = value == STEER_ADMIT_OPEN ? STEER_ADMIT_OPEN
		 : value == STEER_ADMIT_DRAINING ? STEER_ADMIT_DRAINING : STEER_ADMIT_CLOSED;
	return 0;
}

int steer_admission_set(struct steer_maps *maps, uint32_t service_id, enum steer_admission state)
{
	__u32 value = (__u32)state;

	if (!maps || (unsigned)state >= STEER_ADMIT_COUNT)
		return -EINVAL;
	if (service_id >= STEER_SERVICE_ID_MAX)
		return -ERANGE;
	if (bpf_map_update_elem(maps->fd[STEER_M_ADMIT], &service_id, &value, BPF_ANY) < 0)
		return -errno;
	return 0;
}

/* --- Run-time settings ----------------------------------------------------------------------- */

void steer_config_defaults(struct steer_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->syn_rate_per_sec = STEER_DEFAULT_SYN_RATE_PER_SEC;
	cfg->syn_burst = STEER_DEFAULT_SYN_BURST;
	cfg->syn_prefix_len_v4 = STEER_DEFAULT_SYN_PREFIX_LEN_V4;
	cfg->syn_prefix_len_v6 = STEER_DEFAULT_SYN_PREFIX_LEN_V6;
	cfg->block_scope = STEER_DEFAULT_BLOCK_SCOPE;
	cfg->refuse_action = STEER_DEFAULT_REFUSE_ACTION;
}

int steer_config_get(struct steer_maps *maps, struct steer_config *cfg)
{
	__u32 zero = 0;

	if (!maps || !cfg)
		return -EINVAL;
	if (bpf_map_lookup_elem(maps->fd[STEER_M_CONFIG], &zero, cfg) < 0)
		return -errno;
	if (cfg->magic != STEER_CONFIG_MAGIC)
		steer_config_defaults(cfg);
	else if (cfg->layout_version != STEER_LAYOUT_VERSION)
		return -EPROTO; /* written by another build: the program ignores it too */
	return 0;
}

static int steer_config_validate(const struct steer_config *cfg)
{
	if (cfg->syn_prefix_len_v4 > 32 || cfg->syn_prefix_len_v6 > 128)
		return -EINVAL;
	if (cfg->block_scope != STEER_BLOCK_ALL && cfg->block_scope != STEER_BLOCK_SERVICES)
		return -EINVAL;
	if (cfg->refuse_action != STEER_REFUSE_RST && cfg->refuse_action != STEER_REFUSE_DROP)
		return -EINVAL;
	if (cfg->reserved)
		return -EINVAL;
	return 0;
}

static int steer_syn_clear(struct steer_maps *maps)
{
	struct steer_syn_key *keys = NULL;
	size_t n = 0;
	int rc;

	rc = steer_collect_keys(maps->fd[STEER_M_SYN_RATE], sizeof(*keys), STEER_SYN_RATE_MAX, (void **)&keys, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(maps->fd[STEER_M_SYN_RATE], &keys[i]) < 0 && errno != ENOENT) {
			rc = -errno;
			break;
		}
	free(keys);
	return rc;
}

int steer_config_set(struct steer_maps *maps, const struct steer_config *cfg)
{
	struct steer_config current, next;
	__u32 zero = 0;
	int rc;

	if (!maps || !cfg)
		return -EINVAL;
	rc = steer_config_validate(cfg);
	if (rc < 0)
		return rc;
	rc = steer_config_get(maps, &current);
	if (rc == -EPROTO)
		steer_config_defaults(&current); /* overwriting another build's config is the fix */
	else if (rc < 0)
		return rc;
	next = *cfg;
	next.magic = STEER_CONFIG_MAGIC;
	next.layout_version = STEER_LAYOUT_VERSION;
	if (bpf_map_update_elem(maps->fd[STEER_M_CONFIG], &zero, &next, BPF_ANY) < 0)
		return -errno;
	if (current.syn_rate_per_sec != next.syn_rate_per_sec || current.syn_burst != next.syn_burst ||
	    current.syn_prefix_len_v4 != next.syn_prefix_len_v4 || current.syn_prefix_len_v6 != next.syn_prefix_len_v6)
		return steer_syn_clear(maps);
	return 0;
}

int steer_syn_limit_set(struct steer_maps *maps, uint32_t rate_per_sec, uint32_t burst)
{
	struct steer_config cfg;
	int rc = steer_config_get(maps, &cfg);

	if (rc == -EPROTO)
		steer_config_defaults(&cfg);
	else if (rc < 0)
		return rc;
	cfg.syn_rate_per_sec = rate_per_sec;
	cfg.syn_burst = burst;
	return steer_config_set(maps, &cfg);
}

int steer_syn_list(struct steer_maps *maps, struct steer_syn_entry **out, size_t *count)
{
	struct steer_syn_entry *list;
	struct steer_syn_key *keys = NULL;
	size_t n = 0, found = 0;
	int rc;

	if (!maps || !out || !count)
		return -EINVAL;
	rc = steer_collect_keys(maps->fd[STEER_M_SYN_RATE], sizeof(*keys), STEER_SYN_RATE_MAX, (void **)&keys, &n);
	if (rc < 0)
		return rc;
	list = calloc(n ? n : 1, sizeof(*list));
	if (!list) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct steer_syn_bucket bucket;

		if (bpf_map_lookup_elem(maps->fd[STEER_M_SYN_RATE], &keys[i], &bucket) < 0)
			continue;
		list[found].prefix.family = keys[i].family;
		list[found].prefix.len = keys[i].prefix_len;
		memcpy(list[found].prefix.addr, keys[i].addr, sizeof(keys[i].addr));
		list[found].drops = bucket.drops;
		found++;
	}
	free(keys);
	*out = list;
	*count = found;
	return 0;
}

/* --- Counters -------------------------------------------------------------------------------- */

int steer_counters_read(struct steer_maps *maps, struct steer_counter_value totals[STEER_COUNTER_COUNT])
{
	struct steer_counter_value *per_cpu;
	int rc = 0;

	if (!maps || !totals)
		return -EINVAL;
	per_cpu = calloc((size_t)maps->possible_cpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (__u32 i = 0; i < STEER_COUNTER_COUNT; i++) {
		totals[i].packets = 0;
		totals[i].bytes = 0;
		if (bpf_map_lookup_elem(maps->fd[STEER_M_COUNTERS], &i, per_cpu) < 0) {
			rc = -errno;
			break;
		}
		for (int cpu = 0; cpu < maps->possible_cpus; cpu++) {
			totals[i].packets += per_cpu[cpu].packets;
			totals[i].bytes += per_cpu[cpu].bytes;
		}
	}
	free(per_cpu);
	return rc;
}

int steer_counters_clear(struct steer_maps *maps)
{
	struct steer_counter_value *zeros;
	int rc = 0;

	if (!maps)
		return -EINVAL;
	zeros = calloc((size_t)maps->possible_cpus, sizeof(*zeros));
	if (!zeros)
		return -ENOMEM;
	for (__u32 i = 0; i < STEER_COUNTER_COUNT; i++)
		if (bpf_map_update_elem(maps->fd[STEER_M_COUNTERS], &i, zeros, BPF_ANY) < 0) {
			rc = -errno;
			break;
		}
	free(zeros);
	return rc;
}

/* --- Loading the program ourselves ----------------------------------------------------------- */

/* Before libbpf tries to reuse pins (and fails with a bare -EINVAL on a mismatch), say which
 * pin is stale. Pins that do not exist are fine: libbpf creates them. */
static int steer_check_existing_pins(const char *pin_dir, char *err, size_t err_size)
{
	char path[PATH_MAX];

	for (int i = 0; i < STEER_M_COUNT; i++) {
		int fd, rc;

		if (steer_pin_path(pin_dir, steer_map_specs[i].name, path, sizeof(path)) < 0) {
			steer_error(err, err_size, "pin directory name too long");
			return -ENAMETOOLONG;
		}
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			rc = -errno;
			steer_error(err, err_size, "%s: %s", path, strerror(-rc));
			return rc;
		}
		rc = steer_check_map(fd, &steer_map_specs[i], path, err, err_size);
		close(fd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int steer_load(const struct steer_load_opts *opts, struct steer_program **out, char *err, size_t err_size)
{
	const char *pin_dir = opts && opts->pin_dir ? opts->pin_dir : STEER_PIN_ROOT_DEFAULT;
	bool no_pin = opts && opts->no_pin;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_dir);
	struct steer_config defaults;
	struct steer_program *program;
	struct bpf_map *map;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (opts && opts->defaults) {
		rc = steer_config_validate(opts->defaults);
		if (rc < 0) {
			steer_error(err, err_size, "invalid load-time defaults");
			return rc;
		}
		defaults = *opts->defaults;
	} else {
		steer_config_defaults(&defaults);
	}
	if (!no_pin) {
		rc = steer_check_existing_pins(pin_dir, err, err_size);
		if (rc < 0)
			return rc;
	}
	program = calloc(1, sizeof(*program));
	if (!program)
		return -ENOMEM;
	program->skel = steer_bpf__open_opts(&open_opts);
	if (!program->skel) {
		rc = -errno;
		steer_error(err, err_size, "opening the steering program failed: %s", strerror(-rc));
		goto cleanup;
	}
	if (no_pin)
		bpf_object__for_each_map(map, program->skel->obj) {
			rc = bpf_map__set_pin_path(map, NULL);
			if (rc < 0) {
				steer_error(err, err_size, "unpinning %s: %s", bpf_map__name(map), strerror(-rc));
				goto cleanup;
			}
		}
	program->skel->rodata->default_syn_rate_per_sec = defaults.syn_rate_per_sec;
	program->skel->rodata->default_syn_burst = defaults.syn_burst;
	program->skel->rodata->default_syn_prefix_len_v4 = defaults.syn_prefix_len_v4;
	program->skel->rodata->default_syn_prefix_len_v6 = defaults.syn_prefix_len_v6;
	program->skel->rodata->default_block_scope = defaults.block_scope;
	program->skel->rodata->default_refuse_action = defaults.refuse_action;
	rc = steer_bpf__load(program->skel);
	if (rc < 0) {
		steer_error(err, err_size, "loading the steering program failed: %s", strerror(-rc));
		goto cleanup;
	}
	*out = program;
	return 0;

cleanup:
	steer_program_free(program);
	return rc;
}

int steer_program_fd(const struct steer_program *program)
{
	return program ? bpf_program__fd(program->skel->progs.steer_xdp) : -EINVAL;
}

int steer_program_map_fd(const struct steer_program *program, const char *map_name)
{
	struct bpf_map *map;

	if (!program || !map_name)
		return -EINVAL;
	map = bpf_object__find_map_by_name(program->skel->obj, map_name);
	return map ? bpf_map__fd(map) : -ENOENT;
}

int steer_attach(struct steer_program *program, int ifindex, uint32_t xdp_flags)
{
	int rc;

	if (!program || ifindex <= 0 || (xdp_flags & ~(__u32)XDP_FLAGS_MODES))
		return -EINVAL;
	rc = bpf_xdp_attach(ifindex, steer_program_fd(program), xdp_flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	return rc < 0 ? rc : 0;
}

int steer_detach(int ifindex, uint32_t xdp_flags)
{
	int rc;

	if (ifindex <= 0 || (xdp_flags & ~(__u32)XDP_FLAGS_MODES))
		return -EINVAL;
	rc = bpf_xdp_detach(ifindex, xdp_flags, NULL);
	return rc < 0 ? rc : 0;
}

void steer_program_free(struct steer_program *program)
{
	if (!program)
		return;
	steer_bpf__destroy(program->skel);
	free(program);
}
