/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_control_state.c: the control plane's files and small pure helpers, in a private
 * temporary directory: key parsing and key sets (tables), state.json round trip and
 * quarantine, the catalog merge (atomic, versions, replacement, inventory digest), access log
 * lines (table) and draining a synthetic ring file written the way the contract says, with
 * rotation; report backoff bounds and fill retry delays (tables).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accesslog_read.h"
#include "accesslog_writer.h"
#include "catalog_file.h"
#include "etcd.h"
#include "fill.h"
#include "keys.h"
#include "report.h"
#include "state.h"
#include "test_main.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-test-control-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
}

static void remove_tree(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* --- Keys ------------------------------------------------------------------------------------------- */

struct secret_case {
	const char *text;
	int length; /* < 0: refused */
};

static void test_keys_parse(void)
{
	static const struct secret_case cases[] = {
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 32},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 32},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e", -1},      /* 31 bytes */
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0", -1},   /* odd */
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", -1},    /* not hex */
		{"base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 32},
		{"base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 32},                 /* unpadded */
		{"base64:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA", 32},
		{"base64:-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_", 36},            /* url-safe */
		{"base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh", -1},                  /* 31 bytes */
		{"base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", -1},               /* unused bits set */
		{"base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8===", -1},
		{"base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8!", -1},
		{"base64:", -1},
		{"", -1},
		{NULL, 0},
	};

	for (const struct secret_case *c = cases; c->text; c++) {
		uint8_t out[SLUICE_CMD_SIGN_KEY_BYTES_MAX];
		int rc = keys_parse_secret(c->text, out);

		TEST_CHECK(c->length < 0 ? rc < 0 : rc == c->length, "'%s': %d, expected %d", c->text, rc, c->length);
		if (c->length == 32 && rc == 32 && strstr(c->text, "AAECAw"))
			TEST_CHECK(out[0] == 0 && out[31] == 31, "'%s': wrong bytes", c->text);
	}
}

static void test_keys_sets(void)
{
	struct keys_set set = {0};
	struct sluice_cmd_sign_keys sign;
	struct sluice_cmd_ticket_keys ticket;
	uint8_t secret[64];

	memset(secret, 7, sizeof(secret));
	CU_ASSERT_EQUAL(keys_sign_add(&set, 3, secret, 32, 100), 0);
	CU_ASSERT_EQUAL(keys_sign_add(&set, 3, secret, 32, 100), -EEXIST);
	CU_ASSERT_EQUAL(keys_sign_add(&set, 0, secret, 32, 100), -EINVAL);
	CU_ASSERT_EQUAL(keys_sign_add(&set, 4, secret, 31, 100), -EINVAL);
	CU_ASSERT_EQUAL(keys_sign_add(&set, 4, secret, 65, 100), -EINVAL);
	for (int kid = 10; kid < 10 + SLUICE_CMD_SIGN_KEYS_MAX - 1; kid++)
		CU_ASSERT_EQUAL(keys_sign_add(&set, (uint8_t)kid, secret, 64, 100), 0);
	CU_ASSERT_EQUAL(keys_sign_add(&set, 200, secret, 32, 100), -ENOSPC);
	CU_ASSERT_EQUAL(keys_sign_remove(&set, 3), 0);
	CU_ASSERT_EQUAL(keys_sign_remove(&set, 3), -ENOENT);
	CU_ASSERT_EQUAL(set.sign_count, SLUICE_CMD_SIGN_KEYS_MAX - 1);
	keys_sign_payload(&set, &sign);
	CU_ASSERT_EQUAL(sign.count, SLUICE_CMD_SIGN_KEYS_MAX - 1);
	CU_ASSERT_EQUAL(sign.keys[0].kid, 10);
	CU_ASSERT_EQUAL(sign.keys[0].length, 64);
	CU_ASSERT_EQUAL(sign.keys[0].secret[63], 7);

	for (int i = 0; i < 6; i++) {
		struct keys_ticket_key k = {.created_s = i};

		memset(k.name, i + 1, 16);
		memset(k.aes_key, 0x10 + i, 32);
		CU_ASSERT_EQUAL(keys_ticket_rotate(&set, &k), 0);
		CU_ASSERT_EQUAL(keys_ticket_rotate(&set, &k), -EEXIST);
	}
	CU_ASSERT_EQUAL(set.ticket_count, SLUICE_CMD_TICKET_KEYS_MAX);
	CU_ASSERT_EQUAL(set.ticket[0].name[0], 6); /* newest first */
	CU_ASSERT_EQUAL(set.ticket[3].name[0], 3); /* oldest kept */
	keys_ticket_payload(&set, &ticket);
	CU_ASSERT_EQUAL(ticket.count, 4);
	CU_ASSERT_EQUAL(ticket.keys[0].aes_key[0], 0x15);
}

/* --- State ------------------------------------------------------------------------------------------ */

static void test_state_round_trip(void)
{
	struct control_state *st = calloc(1, sizeof(*st)), *back = calloc(1, sizeof(*back));
	char err[STATE_ERROR_MAX] = "", moved[256], path[128];
	uint8_t secret[48];
	struct keys_ticket_key tk = {.created_s = 5};
	struct stat sb;
	FILE *f;

	make_tmpdir();
	CU_ASSERT_EQUAL(state_load(tmpdir, back, err, sizeof(err)), 0); /* missing: empty */
	CU_ASSERT_EQUAL(back->service_count, 0);
	st->override_active = true;
	st->override_state = ADMISSION_CLOSED;
	st->override_expires_s = 1800000000;
	snprintf(st->override_reason, sizeof(st->override_reason), "maintenance \"window\"");
	st->drain_active = true;
	st->drain_since_s = 1700000000;
	st->service_count = 2;
	steer_parse_address("198.18.4.1", &st->services[0].family, st->services[0].addr);
	st->services[0].port = 8080;
	st->services[0].service_id = 4;
	steer_parse_address("fd5c:4::1", &st->services[1].family, st->services[1].addr);
	st->services[1].service_id = 5;
	st->block_count = 2;
	steer_parse_prefix("203.0.113.0/24", &st->blocks[0]);
	steer_parse_prefix("2001:db8:bad::/48", &st->blocks[1]);
	memset(secret, 0xab, sizeof(secret));
	keys_sign_add(&st->keys, 9, secret, 48, 42);
	memset(tk.name, 1, 16);
	keys_ticket_rotate(&st->keys, &tk);
	CU_ASSERT_EQUAL_FATAL(state_save(tmpdir, st, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/state.json", tmpdir);
	CU_ASSERT_EQUAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL_FATAL(state_load(tmpdir, back, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(back->override_active);
	CU_ASSERT_EQUAL(back->override_state, ADMISSION_CLOSED);
	CU_ASSERT_EQUAL(back->override_expires_s, 1800000000);
	CU_ASSERT_STRING_EQUAL(back->override_reason, "maintenance \"window\"");
	CU_ASSERT_TRUE(back->drain_active);
	CU_ASSERT_EQUAL(back->drain_since_s, 1700000000);
	CU_ASSERT_EQUAL(back->service_count, 2);
	CU_ASSERT_EQUAL(back->services[0].port, 8080);
	CU_ASSERT_EQUAL(back->services[1].family, STEER_FAMILY_IPV6);
	CU_ASSERT_EQUAL(back->services[1].service_id, 5);
	CU_ASSERT_EQUAL(state_service_find(back, &st->services[1]), 1);
	CU_ASSERT_EQUAL(back->block_count, 2);
	CU_ASSERT_EQUAL(state_block_find(back, &st->blocks[1]), 1);
	CU_ASSERT_EQUAL(back->keys.sign_count, 1);
	CU_ASSERT_EQUAL(back->keys.sign[0].kid, 9);
	CU_ASSERT_EQUAL(back->keys.sign[0].length, 48);
	CU_ASSERT_EQUAL(back->keys.sign[0].secret[47], 0xab);
	CU_ASSERT_EQUAL(back->keys.sign[0].created_s, 42);
	CU_ASSERT_EQUAL(back->keys.ticket_count, 1);
	CU_ASSERT_EQUAL(back->keys.ticket[0].name[15], 1);
	/* A damaged file is an error naming it, and can be moved aside. */
	f = fopen(path, "w");
	fputs("{\"version\": 1, \"services\": [{\"address\": \"nope\", \"port\": 1, \"id\": 1}]}", f);
	fclose(f);
	CU_ASSERT_EQUAL(state_load(tmpdir, back, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "services: bad entry"));
	CU_ASSERT_EQUAL(back->service_count, 0);
	f = fopen(path, "w");
	fputs("{\"version\": 1,", f);
	fclose(f);
	CU_ASSERT_EQUAL(state_load(tmpdir, back, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "state.json:1"));
	CU_ASSERT_EQUAL(state_quarantine(tmpdir, moved, sizeof(moved)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(moved, "state.json.bad-"));
	CU_ASSERT_EQUAL(state_load(tmpdir, back, err, sizeof(err)), 0);
	f = fopen(path, "w");
	fputs("{\"version\": 2}", f);
	fclose(f);
	CU_ASSERT_EQUAL(state_load(tmpdir, back, err, sizeof(err)), -EINVAL);
	remove_tree(tmpdir);
	free(st);
	free(back);
}

/* --- Catalog file ----------------------------------------------------------------------------------- */

static void test_catalog_merge(void)
{
	char path[128], err[512] = "";
	struct catalog_listing a, b;
	struct catalog_entry add[2] = {
		{.path = "/v/b.m4s", .file = "v/b.m4s", .size = 10, .mtime = 1,
		 .sha256 = "1111111111111111111111111111111111111111111111111111111111111111"},
		{.path = "/v/a.m4s", .file = "v/a.m4s", .size = 20, .mtime = 2, .content_type = "video/iso.segment",
		 .sha256 = "2222222222222222222222222222222222222222222222222222222222222222"},
	};
	uint64_t v1 = 0, v2 = 0;
	FILE *f;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/catalog.json", tmpdir);
	CU_ASSERT_EQUAL(catalog_file_read(path, &a, err, sizeof(err)), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(catalog_file_merge(path, add, 2, &v1, err, sizeof(err)), 0);
	CU_ASSERT(v1 >= (uint64_t)time(NULL) - 5);
	CU_ASSERT_EQUAL_FATAL(catalog_file_read(path, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a.version, v1);
	CU_ASSERT_EQUAL(a.count, 2);
	CU_ASSERT_STRING_EQUAL(a.entries[0].path, "/v/a.m4s"); /* sorted */
	CU_ASSERT_STRING_EQUAL(a.entries[0].content_type, "video/iso.segment");
	CU_ASSERT_EQUAL(strlen(a.digest), 64);
	CU_ASSERT_FALSE(catalog_file_changed(&a, path));
	/* Replace one entry, add none: one more version, same count, another digest. */
	add[0].sha256[0] = '3';
	CU_ASSERT_EQUAL_FATAL(catalog_file_merge(path, add, 1, &v2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v2, v1 + 1);
	CU_ASSERT_TRUE(catalog_file_changed(&a, path));
	CU_ASSERT_EQUAL_FATAL(catalog_file_read(path, &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b.count, 2);
	CU_ASSERT_STRING_NOT_EQUAL(a.digest, b.digest);
	CU_ASSERT_EQUAL(b.entries[1].sha256[0], '3');
	catalog_listing_free(&b);
	/* The digest does not depend on the order of the file. */
	f = fopen(path, "w");
	fprintf(f, "{\"version\": 5, \"files\": [%s, %s]}",
		"{\"path\": \"/v/b.m4s\", \"file\": \"v/b.m4s\", \"size\": 10, \"sha256\": \"1111111111111111111111111111111111111111111111111111111111111111\", \"mtime\": 1}",
		"{\"path\": \"/v/a.m4s\", \"file\": \"v/a.m4s\", \"size\": 20, \"sha256\": \"2222222222222222222222222222222222222222222222222222222222222222\", \"mtime\": 2, \"content_type\": \"video/iso.segment\"}");
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(catalog_file_read(path, &b, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(a.digest, b.digest);
	catalog_listing_free(&b);
	/* No temporary files left; a damaged catalog is refused, not overwritten. */
	f = fopen(path, "w");
	fputs("{\"version\": 5, \"files\": {}}", f);
	fclose(f);
	CU_ASSERT_EQUAL(catalog_file_merge(path, add, 1, &v2, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(catalog_file_read(path, &b, err, sizeof(err)), -EINVAL);
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", tmpdir);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
	catalog_listing_free(&a);
	remove_tree(tmpdir);
}

/* --- Access log ------------------------------------------------------------------------------------ */

struct line_case {
	const char *description;
	struct sluice_accesslog_record record;
	const char *expected;
};

/* The control plane writes the reader library's lines (accesslog_record_json), the format
 * sluice-accesslog prints too. */
static void test_accesslog_lines(void)
{
	static const struct line_case cases[] = {
		{"plain GET", {.time_ns = 1700000000123456789ULL, .duration_us = 812, .bytes_sent = 1000, .catalog_version = 7,
			       .file_id = 3, .status = 200, .method = 1, .flags = SLUICE_ACCESSLOG_KEEPALIVE,
			       .client = {198, 18, 4, 2}, .client_port = 51234, .lcore_id = 1, .path = "/video/a.m4s"},
		 "{\"time\":\"2023-11-14T22:13:20.123Z\",\"client\":\"198.18.4.2\",\"client_port\":51234,\"method\":\"GET\","
		 "\"path\":\"/video/a.m4s\",\"range\":null,\"status\":200,\"bytes\":1000,\"duration_ms\":0.812,\"tls\":false,"
		 "\"keepalive\":true,\"aborted\":false,\"lcore\":1,\"catalog_version\":7,\"file_id\":3}"},
		{"range over TLS, IPv6, no file", {.time_ns = 0, .range_start = 100, .range_length = 50, .file_id = UINT32_MAX,
						  .status = 404, .method = 2,
						  .flags = SLUICE_ACCESSLOG_TLS | SLUICE_ACCESSLOG_RANGE | SLUICE_ACCESSLOG_IPV6 |
							   SLUICE_ACCESSLOG_ABORTED,
						  .client = {0xfd, 0x5c, 0, 4, [15] = 2}, .path = "/x"},
		 "{\"time\":\"1970-01-01T00:00:00.000Z\",\"client\":\"fd5c:4::2\",\"client_port\":0,\"method\":\"HEAD\","
		 "\"path\":\"/x\",\"range\":\"bytes=100-149\",\"status\":404,\"bytes\":0,\"duration_ms\":0.000,\"tls\":true,"
		 "\"keepalive\":false,\"aborted\":true,\"lcore\":0,\"catalog_version\":0,\"file_id\":null}"},
		{"open-ended range", {.range_start = 100, .flags = SLUICE_ACCESSLOG_RANGE, .file_id = 1, .status = 206},
		 "\"range\":\"bytes=100-\","},
		{"multipart ranges", {.range_start = 10, .range_length = 300, .range_parts = 3, .flags = SLUICE_ACCESSLOG_RANGE,
				      .file_id = 1, .status = 206},
		 "\"range\":\"3 parts from byte 10, 300 bytes\","},
		{"hostile path bytes are JSON-escaped", {.file_id = UINT32_MAX, .status = 400, .method = 200,
							 .path = "/a\"b\\c%d\x01\xff e"},
		 "\"method\":\"?\",\"path\":\"/a\\\"b\\\\c%d\\u0001\\u00ff e\","},
		{"no method", {.file_id = UINT32_MAX, .status = 400, .path = "/"}, "\"method\":\"-\","},
		{NULL, {0}, NULL},
	};

	for (const struct line_case *c = cases; c->description; c++) {
		char line[ACCESSLOG_JSON_MAX];
		int n = accesslog_record_json(&c->record, line, sizeof(line));

		TEST_CHECK(n > 0 && (c->expected[0] == '{' ? !strcmp(line, c->expected) : strstr(line, c->expected) != NULL),
			   "%s:\n got      %.220s\n expected %.220s", c->description, line, c->expected);
		{
			json_t *parsed = n > 0 ? json_loads(line, 0, NULL) : NULL;

			TEST_CHECK(parsed != NULL, "%s: not JSON", c->description);
			json_decref(parsed);
		}
	}
	{
		/* A full-length path that is all escapes still fits, and stays valid JSON. */
		struct sluice_accesslog_record r = {.file_id = UINT32_MAX};
		char line[ACCESSLOG_JSON_MAX];
		json_t *parsed;
		int n;

		memset(r.path, 0xff, sizeof(r.path)); /* not even NUL-terminated: read up to PATH_MAX only */
		n = accesslog_record_json(&r, line, sizeof(line));
		CU_ASSERT(n > 6 * SLUICE_ACCESSLOG_PATH_MAX);
		parsed = n > 0 ? json_loads(line, 0, NULL) : NULL;
		CU_ASSERT_PTR_NOT_NULL(parsed);
		CU_ASSERT_EQUAL(json_string_length(json_object_get(parsed, "path")), 2 * SLUICE_ACCESSLOG_PATH_MAX);
		json_decref(parsed); /* (U+00FF is two bytes of UTF-8) */
		/* Too small a buffer is refused, not cut. */
		CU_ASSERT_EQUAL(accesslog_record_json(&r, line, (size_t)n), -ENOSPC);
	}
}

/* Writes a ring file the way the data plane's lcores do (sluice_accesslog.h). */
static uint8_t *make_rings(const char *path, uint32_t lcores, uint32_t records, size_t *size_out)
{
	size_t stride = sizeof(struct sluice_accesslog_ring) + (size_t)records * sizeof(struct sluice_accesslog_record);
	size_t size = 128 + lcores * stride;
	struct sluice_accesslog_header *h;
	uint8_t *map;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(ftruncate(fd, (off_t)size), 0);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	CU_ASSERT_FATAL(map != MAP_FAILED);
	h = (struct sluice_accesslog_header *)map;
	h->magic = SLUICE_ACCESSLOG_MAGIC;
	h->version = SLUICE_ACCESSLOG_VERSION;
	h->header_size = sizeof(*h);
	h->lcore_count = lcores;
	h->ring_records = records;
	h->record_size = sizeof(struct sluice_accesslog_record);
	h->rings_offset = 128;
	h->ring_stride = (uint32_t)stride;
	h->pid = getpid();
	*size_out = size;
	return map;
}

static void ring_push(uint8_t *map, uint32_t lcore, uint16_t status)
{
	struct sluice_accesslog_header *h = (struct sluice_accesslog_header *)map;
	struct sluice_accesslog_ring *ring = (struct sluice_accesslog_ring *)(map + h->rings_offset + lcore * h->ring_stride);
	struct sluice_accesslog_record *records = (struct sluice_accesslog_record *)(ring + 1);
	uint64_t head = ring->head;

	if (head - ring->tail == h->ring_records) {
		ring->dropped++;
		return;
	}
	memset(&records[head & (h->ring_records - 1)], 0, sizeof(records[0]));
	records[head & (h->ring_records - 1)].status = status;
	records[head & (h->ring_records - 1)].lcore_id = (uint16_t)lcore;
	records[head & (h->ring_records - 1)].file_id = UINT32_MAX;
	snprintf(records[head & (h->ring_records - 1)].path, SLUICE_ACCESSLOG_PATH_MAX, "/r/%u", status);
	__atomic_store_n(&ring->head, head + 1, __ATOMIC_RELEASE);
}

static int count_lines(const char *path, const char *needle)
{
	char line[ACCESSLOG_JSON_MAX + 2];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !needle || strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void test_accesslog_drain(void)
{
	char rings[128], out[128], rotated[256], older[160];
	struct accesslog_writer *w;
	struct accesslog_stats st;
	size_t size;
	uint8_t *map;

	make_tmpdir();
	snprintf(rings, sizeof(rings), "%s/stats.accesslog", tmpdir);
	snprintf(out, sizeof(out), "%s/access.log", tmpdir);
	CU_ASSERT_EQUAL_FATAL(accesslog_writer_create(rings, out, 2, &w), 0);
	CU_ASSERT_EQUAL(accesslog_writer_drain(w), 0); /* no rings yet */
	accesslog_writer_stats(w, &st);
	CU_ASSERT_FALSE(st.rings_mapped);
	map = make_rings(rings, 2, 8, &size);
	for (uint16_t i = 0; i < 5; i++)
		ring_push(map, 0, (uint16_t)(200 + i));
	for (uint16_t i = 0; i < 10; i++) /* 8 fit, 2 dropped by the writer */
		ring_push(map, 1, (uint16_t)(300 + i));
	CU_ASSERT_EQUAL(accesslog_writer_drain(w), 13);
	accesslog_writer_stats(w, &st);
	CU_ASSERT_TRUE(st.rings_mapped);
	CU_ASSERT_EQUAL(st.records, 13);
	CU_ASSERT_EQUAL(st.dropped, 2);
	CU_ASSERT_EQUAL(count_lines(out, NULL), 13);
	CU_ASSERT_EQUAL(count_lines(out, "\"lcore\":1,"), 8);
	/* The ring wraps: tail was advanced, so the slots are reused. */
	for (uint16_t i = 0; i < 8; i++)
		ring_push(map, 1, 400);
	CU_ASSERT_EQUAL(accesslog_writer_drain(w), 8);
	CU_ASSERT_EQUAL(count_lines(out, "\"status\":400"), 8);
	/* Rotation: access.log -> .1, the next lines go to a new file; .1 -> .2; beyond keep goes. */
	CU_ASSERT_EQUAL(accesslog_writer_rotate(w, rotated, sizeof(rotated)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(rotated, "access.log.1"));
	ring_push(map, 0, 201);
	CU_ASSERT_EQUAL(accesslog_writer_drain(w), 1);
	CU_ASSERT_EQUAL(count_lines(out, NULL), 1);
	CU_ASSERT_EQUAL(count_lines(rotated, NULL), 21);
	CU_ASSERT_EQUAL(accesslog_writer_rotate(w, rotated, sizeof(rotated)), 0);
	CU_ASSERT_EQUAL(accesslog_writer_rotate(w, rotated, sizeof(rotated)), 0);
	snprintf(older, sizeof(older), "%s.2", out);
	CU_ASSERT_EQUAL(count_lines(older, NULL), 1);
	snprintf(older, sizeof(older), "%s.3", out);
	CU_ASSERT_EQUAL(count_lines(older, NULL), -1);
	/* External rotation (rename + SIGHUP): reopen writes to the path again. */
	CU_ASSERT_EQUAL(rename(out, older), 0);
	CU_ASSERT_EQUAL(accesslog_writer_reopen(w), 0);
	ring_push(map, 0, 202);
	CU_ASSERT_EQUAL(accesslog_writer_drain(w), 1);
	CU_ASSERT_EQUAL(count_lines(out, "\"status\":202"), 1);
	/* A replaced ring file (new data plane) is mapped again. */
	munmap(map, size);
	CU_ASSERT_EQUAL(unlink(rings), 0);
	map = make_rings(rings, 1, 4, &size);
	ring_push(map, 0, 203);
	CU_ASSERT_EQUAL(accesslog_writer_drain(w), 1);
	/* A head more than a ring ahead of tail (a writer bug): the overwritten records are counted
	 * as lost, the last ring's worth is read. */
	{
		struct sluice_accesslog_ring *ring = (struct sluice_accesslog_ring *)(map + 128);

		ring->head += 4 + 3;
		CU_ASSERT_EQUAL(accesslog_writer_drain(w), 4);
		accesslog_writer_stats(w, &st);
		CU_ASSERT_EQUAL(st.lost, 3);
		CU_ASSERT_EQUAL(st.dropped, 2); /* since start: each drop is reported once */
	}
	/* A file that is not a ring file is refused, not read. */
	munmap(map, size);
	unlink(rings);
	map = make_rings(rings, 1, 3, &size); /* not a power of two */
	ring_push(map, 0, 204);
	CU_ASSERT_EQUAL(accesslog_writer_drain(w), 0);
	accesslog_writer_stats(w, &st);
	CU_ASSERT_PTR_NOT_NULL(strstr(st.error, "not an access log ring file"));
	munmap(map, size);
	/* A busy ring gives up to ACCESSLOG_WRITER_BATCH records per drain and does not starve the
	 * others: lcore 1's records come out in the first drain. */
	unlink(rings);
	map = make_rings(rings, 2, 2 * ACCESSLOG_WRITER_BATCH, &size);
	for (unsigned i = 0; i < ACCESSLOG_WRITER_BATCH + 100; i++)
		ring_push(map, 0, 210);
	for (unsigned i = 0; i < 3; i++)
		ring_push(map, 1, 310);
	CU_ASSERT_EQUAL(accesslog_writer_drain(w), ACCESSLOG_WRITER_BATCH + 3);
	CU_ASSERT_EQUAL(count_lines(out, "\"status\":310"), 3);
	CU_ASSERT_EQUAL(accesslog_writer_drain(w), 100);
	CU_ASSERT_EQUAL(count_lines(out, "\"status\":210"), ACCESSLOG_WRITER_BATCH + 100);
	accesslog_writer_stats(w, &st);
	CU_ASSERT_TRUE(st.rings_mapped);
	CU_ASSERT_STRING_EQUAL(st.error, "");
	munmap(map, size);
	accesslog_writer_destroy(w);
	remove_tree(tmpdir);
}

/* --- Retry delays ---------------------------------------------------------------------------------- */

struct backoff_case {
	uint32_t attempt, initial, max;
	uint32_t min_ms, max_ms; /* over random in [0, 2^32) */
};

static void test_backoff(void)
{
	static const struct backoff_case cases[] = {
		{1, 500, 30000, 250, 500},     {2, 500, 30000, 500, 1000},  {3, 500, 30000, 1000, 2000},
		{7, 500, 30000, 15000, 30000}, {8, 500, 30000, 15000, 30000}, {40, 500, 30000, 15000, 30000},
		{1, 1, 1, 0, 1},               {3, 100, 150, 75, 150},       {0, 0, 0, 0, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct backoff_case *c = &cases[i];
		uint32_t lo = report_backoff_ms(c->attempt, c->initial, c->max, 0);
		uint32_t hi = report_backoff_ms(c->attempt, c->initial, c->max, UINT32_MAX);
		uint32_t mid = report_backoff_ms(c->attempt, c->initial, c->max, 1u << 31);

		TEST_CHECK(lo == c->min_ms && hi <= c->max_ms && hi >= c->max_ms - 1 && mid >= lo && mid <= hi,
			   "attempt %u (%u..%u): %u / %u / %u, expected %u..%u", c->attempt, c->initial, c->max, lo, mid, hi,
			   c->min_ms, c->max_ms);
	}
	{
		static const uint32_t fill_expected[] = {1000, 1000, 2000, 4000, 8000, 16000, 30000, 30000};

		for (uint32_t a = 0; a < 8; a++)
			TEST_CHECK(fill_retry_delay_ms(a) == fill_expected[a], "fill retry %u: %u", a, fill_retry_delay_ms(a));
	}
}

static void test_base64(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"/sluice/edges/edge-4", "L3NsdWljZS9lZGdlcy9lZGdlLTQ="}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];

		etcd_base64(cases[i].in, strlen(cases[i].in), out);
		TEST_CHECK(!strcmp(out, cases[i].out), "base64('%s') = '%s'", cases[i].in, out);
	}
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"secret forms table", test_keys_parse},
		{"signing and ticket key sets", test_keys_sets},
		{"state.json round trip and quarantine", test_state_round_trip},
		{"catalog merge and digest", test_catalog_merge},
		{"access log lines table", test_accesslog_lines},
		{"access log rings drained and rotated", test_accesslog_drain},
		{"backoff and retry delays", test_backoff},
		{"etcd base64", test_base64},
		{NULL, NULL},
	};
	test_add_suite("control_state", cases);
}
