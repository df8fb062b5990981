/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_accesslog.h: the access log rings, from the data plane's lcores to whoever writes
 * the log (sluice-control, or the sluice-accesslog reader tool).
 *
 * A shared-memory file (dataplane.api.stats_path + ".accesslog" by default) holding one
 * single-producer single-consumer ring per worker lcore. The lcore writes one fixed-size
 * record per response and never waits: when its ring is full it counts the record in
 * `dropped` instead. The reader copies records out and advances `tail`; while the ring has
 * room nothing is lost. Indices only grow (slot = index & (records - 1)).
 *
 *   [header][ring 0: struct sluice_accesslog_ring, records][ring 1]...
 *
 * Ordering: the lcore writes the record, then publishes head with a release store; the
 * reader loads head with acquire, reads records [tail, head), then stores tail with release.
 */
#ifndef SLUICE_API_ACCESSLOG_H
#define SLUICE_API_ACCESSLOG_H

#include <stdint.h>

#define SLUICE_ACCESSLOG_MAGIC 0x474f4c4343415353ULL /* "SSACCLOG" little-endian */
#define SLUICE_ACCESSLOG_VERSION 1
#define SLUICE_ACCESSLOG_PATH_MAX 96

struct sluice_accesslog_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint32_t lcore_count;
	uint32_t ring_records;          /* power of two */
	uint32_t record_size;           /* sizeof(struct sluice_accesslog_record) of the writer */
	uint32_t rings_offset;          /* first ring, from the start of the file */
	uint32_t ring_stride;           /* bytes from one ring to the next */
	int32_t pid;                    /* writer */
	uint64_t start_time_ns;         /* CLOCK_REALTIME, identifies the writer's incarnation */
	uint8_t reserved[24];
};
_Static_assert(sizeof(struct sluice_accesslog_header) == 72, "access log header is a contract");

struct sluice_accesslog_ring {
	volatile uint64_t head;         /* next index the lcore writes (lcore only) */
	uint64_t pad0[7];
	volatile uint64_t tail;         /* next index the reader reads (reader only) */
	volatile uint64_t dropped_reported; /* reader only: `dropped` already reported by a reader,
					       so the next reader reports only newer drops */
	uint64_t pad1[6];
	volatile uint64_t dropped;      /* records lost to a full ring (lcore only) */
	uint32_t lcore_id;
	uint32_t reserved;
	uint64_t pad2[6];
	/* ring_records records follow */
};
_Static_assert(sizeof(struct sluice_accesslog_ring) == 192, "ring header: three cache lines");

enum sluice_accesslog_flags {
	SLUICE_ACCESSLOG_TLS = 0x01,        /* served over TLS */
	SLUICE_ACCESSLOG_RANGE = 0x02,      /* range_start/range_length describe a Range request */
	SLUICE_ACCESSLOG_ABORTED = 0x04,    /* the connection ended before the response was sent */
	SLUICE_ACCESSLOG_IPV6 = 0x08,
	SLUICE_ACCESSLOG_KEEPALIVE = 0x10,
};

struct sluice_accesslog_record {
	uint64_t time_ns;               /* CLOCK_REALTIME when the request head was complete */
	uint64_t duration_us;           /* until the last byte was acknowledged (or the end) */
	uint64_t bytes_sent;            /* response bytes acknowledged by the client */
	uint64_t range_start;
	uint64_t range_length;
	uint64_t catalog_version;
	uint32_t file_id;               /* index in that catalog version; UINT32_MAX: no file */
	uint16_t status;
	uint8_t method;                 /* enum http_method */
	uint8_t flags;                  /* enum sluice_accesslog_flags */
	uint8_t client[16];             /* IPv4 in the first 4 bytes when not IPV6 */
	uint16_t client_port;
	uint16_t lcore_id;
	uint32_t range_parts;           /* RANGE: 1 = one range; N > 1 = multipart of N parts, whose
					   first part starts at range_start and whose file bytes
					   total range_length (was reserved: zero in older writers) */
	char path[SLUICE_ACCESSLOG_PATH_MAX]; /* request path, truncated, NUL-terminated */
};
_Static_assert(sizeof(struct sluice_accesslog_record) == 176, "access log record is a contract");

#endif /* SLUICE_API_ACCESSLOG_H */
